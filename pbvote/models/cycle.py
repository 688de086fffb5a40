from __future__ import annotations

import datetime as dt
import json
import secrets

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.infra.db import UTCDateTime, utcnow
from pbvote.infra.extensions import db

PHASE_KINDS = ("intake", "review", "voting", "tally", "published")


class Cycle(db.Model):
    """One funding round, such as "Safer Streets 2027"."""

    __tablename__ = "cycle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: URL name, stable for the life of the cycle
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the city or body running the cycle, shown in headers and letters
    city_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: ISO 4217 code; budgets and costs are whole units of it
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total_budget: Mapped[int] = mapped_column(BigInteger)
    #: IANA zone in which phase dates are shown to people
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: published before the count; seeds the last tie-break lot
    tie_break_seed: Mapped[str] = mapped_column(String(128), default="")
    minimum_age: Mapped[int] = mapped_column(Integer, default=16)
    #: comma-separated verification methods from pbvote.rules.eligibility.VERIFICATION_METHODS
    allowed_methods: Mapped[str] = mapped_column(String(100), default="roll,code")
    self_declared_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: residents on no roll may declare online (vote/declare) and confirm a one-time code;
    #: in the manifest only when on, so manifests of cycles without it keep their hash
    online_self_declaration: Mapped[bool] = mapped_column(Boolean, default=False,
                                                          server_default=false())
    #: SHA-256 of the manifest, fixed when voting opens
    manifest_hash: Mapped[str | None] = mapped_column(String(64))
    #: the canonical JSON whose SHA-256 is manifest_hash, stored as it was when voting opened
    manifest_json: Mapped[str | None] = mapped_column(Text)
    chain_id: Mapped[int] = mapped_column(ForeignKey("chain.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: raised in the same transaction as any change to the cycle, its phases, districts or
    #: projects (pbvote.models.revision), so a process may cache them until it moves
    config_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: set when staff archive a cycle whose voting never opened: it leaves the public home
    #: page and the open-data list, and its set-up stays readable for staff
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: secret HMAC key (hex) from which receipts derive (pbvote.audit.chain): kept by the
    #: server only, so the auditors' chain export cannot map a receipt to its ballot. NULL
    #: for cycles that had ballots before receipts were keyed (their receipts are plain hashes)
    receipt_key: Mapped[str | None] = mapped_column(
        String(64), default=lambda: secrets.token_hex(32))
    #: fingerprint of the identity key that hashed this cycle's roll and codes, fixed by the
    #: first one used (pbvote.services.identity_key): another key is refused, since it
    #: would make every person who voted a new, unvoted identity
    identity_key_fingerprint: Mapped[str | None] = mapped_column(String(64))
    #: secret HMAC key (hex) of the roll-number hash that re-imports match entries by
    #: (RollEntry.roll_number_key_hash): made with the cycle and never changed, so a roll
    #: re-imported after the identity key changed still finds the people who voted. Kept by
    #: the server only, like receipt_key; it keys nothing but roll numbers.
    roll_number_key: Mapped[str | None] = mapped_column(
        String(64), default=lambda: secrets.token_hex(32))

    __table_args__ = (CheckConstraint("total_budget > 0", name="positive_budget"),)

    districts: Mapped[list[District]] = relationship(
        back_populates="cycle", order_by="District.position", cascade="all, delete-orphan")
    phases: Mapped[list[Phase]] = relationship(
        back_populates="cycle", order_by="Phase.starts_at", cascade="all, delete-orphan")
    chain = relationship("Chain")

    @property
    def method_list(self) -> list[str]:
        return [m for m in self.allowed_methods.split(",") if m]

    def phase_at(self, moment: dt.datetime) -> Phase | None:
        for phase in self.phases:
            if phase.starts_at <= moment < phase.ends_at:
                return phase
        return None

    def phase_window(self, kind: str) -> Phase | None:
        return next((p for p in self.phases if p.kind == kind), None)

    def voting_open(self, moment: dt.datetime) -> bool:
        """Inside the voting window of a cycle whose voting was scheduled or opened (its
        manifest stored); a window whose start passes unscheduled does not open."""
        voting = self.phase_window("voting")
        return self.manifest_hash is not None and voting is not None \
            and voting.starts_at <= moment < voting.ends_at

    def district_by_slug(self, slug: str) -> District | None:
        return next((d for d in self.districts if d.slug == slug), None)

    def district_by_id(self, district_id: int) -> District | None:
        return next((d for d in self.districts if d.id == district_id), None)


class Phase(db.Model):
    """A dated window of the cycle; windows of one cycle do not overlap."""

    __tablename__ = "phase"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    #: one of PHASE_KINDS
    kind: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    cycle: Mapped[Cycle] = relationship(back_populates="phases")

    __table_args__ = (
        UniqueConstraint("cycle_id", "kind"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )


class District(db.Model):
    """A ballot scope: its own budget, ballot design and tally rule."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: display order on the cycle page
    position: Mapped[int] = mapped_column(Integer, default=0)
    budget: Mapped[int] = mapped_column(BigInteger)
    #: one of pbvote.rules.ballots.BALLOT_KINDS
    ballot_kind: Mapped[str] = mapped_column(String(20))
    #: k for approval and ranked ballots
    max_choices: Mapped[int | None] = mapped_column(Integer)
    min_choices: Mapped[int] = mapped_column(Integer, default=0)
    #: knapsack: the least share of the budget a ballot must spend, in percent
    min_spend_percent: Mapped[int] = mapped_column(Integer, default=0)
    #: cumulative: points each voter spreads
    points: Mapped[int | None] = mapped_column(Integer)
    max_points_per_project: Mapped[int | None] = mapped_column(Integer)
    #: a rule name from pbvote.tally and its parameters as canonical JSON
    tally_rule: Mapped[str] = mapped_column(String(60), default="greedy")
    tally_params: Mapped[str] = mapped_column(Text, default="{}")

    cycle: Mapped[Cycle] = relationship(back_populates="districts")
    projects: Mapped[list[Project]] = relationship(
        back_populates="district", order_by="Project.position", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("cycle_id", "slug"),
        CheckConstraint("budget > 0", name="positive_budget"),
        CheckConstraint("min_spend_percent BETWEEN 0 AND 100", name="spend_percent_range"),
    )

    @property
    def tally_parameters(self) -> dict:
        return json.loads(self.tally_params or "{}")

    def ballot_design(self):
        from pbvote.rules.ballots import BallotDesign

        return BallotDesign(
            kind=self.ballot_kind, budget=self.budget, max_choices=self.max_choices,
            min_choices=self.min_choices, min_spend_percent=self.min_spend_percent,
            points=self.points, max_points_per_project=self.max_points_per_project)

    def project_costs(self) -> dict[str, int]:
        return {p.code: p.cost for p in self.projects}


class Project(db.Model):
    """A costed ballot project in one district."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    #: short public id used on ballots, in the log and in Pabulib exports
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(80), default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    cost: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: random file name under instance/uploads/projects/, re-encoded without metadata
    image_name: Mapped[str | None] = mapped_column(String(64))
    #: where the project is, in microdegrees (pbvote.rules.geo); a public place, shown as is
    lat_e6: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lon_e6: Mapped[int | None] = mapped_column(Integer, nullable=True)

    district: Mapped[District] = relationship(back_populates="projects")
    cycle: Mapped[Cycle] = relationship()

    __table_args__ = (
        UniqueConstraint("cycle_id", "code"),
        CheckConstraint("cost > 0", name="positive_cost"),
        CheckConstraint("(lat_e6 IS NULL) = (lon_e6 IS NULL)", name="whole_point"),
    )


class DistrictOutline(db.Model):
    """A district's shape on the map, uploaded by staff as GeoJSON and checked
    (pbvote.rules.geo.read_outlines). Not part of the ballot: changing it changes no manifest."""

    __tablename__ = "district_outline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"),
                                             unique=True)
    #: polygons as nested JSON lists of integer microdegrees, [lon, lat] as in GeoJSON
    polygons: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District] = relationship()

    __table_args__ = (Index("ix_district_outline_cycle_id", "cycle_id"),)
