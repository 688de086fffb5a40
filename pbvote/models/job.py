"""Long work done outside the request: one row per job, read by its progress page."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbvote.infra.db import UTCDateTime
from pbvote.infra.extensions import db

JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(db.Model):
    """A job and its progress. The row is the truth on every backend: the Redis queue (RQ)
    carries only the job's id, so a job's state, payload and result live here."""

    __tablename__ = "job"

    #: random hex
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: the registered job function, such as "letters.roll" or "mail.send"
    kind: Mapped[str] = mapped_column(String(60))
    #: JSON arguments; cleared when the job ends for kinds that carry secrets (mail bodies)
    payload: Mapped[str] = mapped_column(Text, default="{}")
    #: "queued", "running", "done" or "failed"
    status: Mapped[str] = mapped_column(String(10), default="queued")
    #: units of work done and in all (0 of 0 until the job knows its size)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: JSON the job keeps between its commits, to resume after a restart (file offsets)
    checkpoint: Mapped[str] = mapped_column(Text, default="{}")
    #: JSON list of result files [{"name", "label", "count"}] in the job's folder
    files: Mapped[str] = mapped_column(Text, default="[]")
    #: a short summary shown when done, or the reason it failed
    message: Mapped[str] = mapped_column(Text, default="")
    #: who asked for it (a staff label), "" for the system
    created_by: Mapped[str] = mapped_column(String(200), default="")
    #: the cycle it belongs to, to list a cycle's jobs; no foreign key: a job outlives nothing
    cycle_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: not before this time (a retry waits)
    run_after: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: a running job whose worker has not renewed this is taken over by another worker
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the worker running it (host:pid:thread)
    worker: Mapped[str] = mapped_column(String(120), default="")

    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        Index("ix_job_status_run_after", "status", "run_after"),
        Index("ix_job_cycle_id", "cycle_id"),
    )
