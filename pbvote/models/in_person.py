"""In-person voting: kiosk passes, paper serials and their double entry, desk additions to the
roll, and the sampled paper audit.

None of these rows names a voter: the desk's check-in is a Participation (channel "desk");
a kiosk pass and a paper serial carry only the cycle, district and site, so a ballot can
never be traced back to the person who was checked in.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.infra.db import UTCDateTime, utcnow
from pbvote.infra.extensions import db

#: where a printed paper ballot is in its life
SERIAL_STATUSES = ("printed", "entered_once", "adjudication", "counted", "spoiled", "invalid")
#: statuses that end a serial's life; it cannot be entered again
FINAL_SERIAL_STATUSES = ("counted", "spoiled", "invalid")
#: what an entry (or an adjudication) says the paper is
PAPER_OUTCOMES = ("valid", "spoiled", "invalid")


class KioskPass(db.Model):
    """A checked-in voter's right to cast one ballot on a kiosk at the desk's site.

    Random id and no time, so the order of passes tells nothing; the kiosk ballot does not
    reference it.
    """

    __tablename__ = "kiosk_pass"

    #: random hex
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    site: Mapped[str] = mapped_column(String(120))
    #: "waiting", "used" (a ballot was cast) or "cancelled" (the voter left without voting)
    status: Mapped[str] = mapped_column(String(10), default="waiting")

    district = relationship("District")

    __table_args__ = ({"sqlite_with_rowid": False},)


class PaperSerial(db.Model):
    """A printed paper ballot sheet: its serial, district and the site whose stack it is in.

    Which voter took which sheet is never recorded.
    """

    __tablename__ = "paper_serial"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    #: printed on the sheet, e.g. "AP-7K3M-Q9XD"; random so it cannot be guessed
    serial: Mapped[str] = mapped_column(String(20))
    site: Mapped[str] = mapped_column(String(120))
    #: print run number within the cycle, for reprinting one batch
    batch: Mapped[int] = mapped_column(Integer)
    #: one of SERIAL_STATUSES
    status: Mapped[str] = mapped_column(String(12), default="printed")
    #: the outcome committed by matching entries or adjudication, once final
    outcome: Mapped[str | None] = mapped_column(String(10))
    #: canonical JSON of the committed selections (valid ballots), for the sampled audit
    recorded_selections: Mapped[str | None] = mapped_column(Text)
    #: why a spoiled or invalid ballot was not counted
    reason: Mapped[str] = mapped_column(String(300), default="")

    district = relationship("District")
    entries: Mapped[list[PaperEntry]] = relationship(
        back_populates="paper_serial", order_by="PaperEntry.stage", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("cycle_id", "serial"),)


class PaperEntry(db.Model):
    """One staff member's reading of a paper ballot: stage 1 and 2 are the double entry,
    stage 3 the adjudication of a mismatch. One row per stage."""

    __tablename__ = "paper_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial_id: Mapped[int] = mapped_column(ForeignKey("paper_serial.id", ondelete="CASCADE"))
    #: 1 first entry, 2 second entry, 3 adjudication
    stage: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    #: one of PAPER_OUTCOMES
    outcome: Mapped[str] = mapped_column(String(10))
    #: canonical JSON of the selections read from the paper; empty unless valid
    selections: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(300), default="")
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    paper_serial: Mapped[PaperSerial] = relationship(back_populates="entries")

    __table_args__ = (UniqueConstraint("serial_id", "stage"),)


class DeskRollAddition(db.Model):
    """The flag on a roll entry that desk staff added for a self-declared eligible resident."""

    __tablename__ = "desk_roll_addition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roll_entry_id: Mapped[int] = mapped_column(
        ForeignKey("roll_entry.id", ondelete="CASCADE"), unique=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    site: Mapped[str] = mapped_column(String(120))
    #: what the staff member saw, e.g. "utility bill, March 2027"
    proof_seen: Mapped[str] = mapped_column(String(300))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))


class PaperAudit(db.Model):
    """A sampled audit of the paper ballots after close: its public seed and sample."""

    __tablename__ = "paper_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"),
                                          unique=True)
    #: the public random seed, as typed (e.g. dice rolled at a public meeting)
    seed: Mapped[str] = mapped_column(String(200))
    #: "risk" (risk limit and margin) or "percentage"
    method: Mapped[str] = mapped_column(String(12))
    #: decimal strings as the auditor typed them (percent), parsed as exact fractions
    risk_limit: Mapped[str] = mapped_column(String(20), default="")
    margin: Mapped[str] = mapped_column(String(20), default="")
    percentage: Mapped[str] = mapped_column(String(20), default="")
    #: how many entered paper serials the sample was drawn from
    population: Mapped[int] = mapped_column(Integer)
    #: JSON list of the sampled serials, in sample order
    sample_json: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    findings: Mapped[list[PaperAuditFinding]] = relationship(
        back_populates="audit", order_by="PaperAuditFinding.id", cascade="all, delete-orphan")


class PaperAuditFinding(db.Model):
    """What the auditor read on one sampled paper ballot, beside what was recorded."""

    __tablename__ = "paper_audit_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("paper_audit.id", ondelete="CASCADE"))
    serial: Mapped[str] = mapped_column(String(20))
    #: outcome and canonical selections as committed, and as read by the auditor
    recorded: Mapped[str] = mapped_column(Text)
    found: Mapped[str] = mapped_column(Text)
    #: 1 when they differ
    discrepancy: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))

    audit: Mapped[PaperAudit] = relationship(back_populates="findings")

    __table_args__ = (UniqueConstraint("audit_id", "serial"),)
