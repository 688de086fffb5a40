"""Prometheus metrics (prometheus_client). Under gunicorn, set PROMETHEUS_MULTIPROC_DIR to an
empty folder before the app starts: each worker then writes its samples there and /metrics
adds them up (config/gunicorn.conf.py marks exited workers dead).

What is measured, and only this: requests by endpoint (the route's name, never the path with
its values), method and status; request latency by endpoint; ballots cast by channel
(counted after their transaction commits); eligibility refusals by reason code; rate-limit
refusals by endpoint; the job queue's depth (read when scraped). No personal data, no ballot
contents, nothing per project or per district, so nothing reveals a partial tally.
"""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event
from sqlalchemy.orm import Session

REQUESTS = Counter("pbvote_http_requests", "HTTP requests by endpoint, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("pbvote_http_request_duration_seconds", "Request latency by endpoint",
                    ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
BALLOTS = Counter("pbvote_ballots_cast", "Ballots cast (committed), by channel", ["channel"])
REFUSALS = Counter("pbvote_eligibility_refusals", "Voter checks refused, by reason code",
                   ["reason"])
RATE_LIMITED = Counter("pbvote_rate_limit_refusals", "Requests refused by a rate limit",
                       ["endpoint"])

_PENDING_BALLOTS = "pbvote_metrics_ballots"


def ballot_cast(session: Session, channel: str) -> None:
    """Count a ballot once the session's transaction commits."""
    pending = session.info.setdefault(_PENDING_BALLOTS, {})
    pending[channel] = pending.get(channel, 0) + 1


@event.listens_for(Session, "after_commit")
def _count_committed_ballots(session: Session) -> None:
    for channel, count in session.info.pop(_PENDING_BALLOTS, {}).items():
        BALLOTS.labels(channel=channel).inc(count)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_ballots(session: Session, _previous) -> None:
    session.info.pop(_PENDING_BALLOTS, None)


def refusal(reason: str) -> None:
    REFUSALS.labels(reason=reason[:40]).inc()


class _QueueDepth:
    def __init__(self, read) -> None:
        self.read = read

    def collect(self):
        family = GaugeMetricFamily("pbvote_jobs_queue_depth", "Jobs waiting or running")
        family.add_metric([], self.read())
        yield family


def exposition(queue_depth) -> bytes:
    """The text a Prometheus server scrapes: every process's samples under gunicorn (when
    PROMETHEUS_MULTIPROC_DIR is set), this process's otherwise."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY, BALLOTS, REFUSALS, RATE_LIMITED):
            registry.register(collector)
    registry.register(_QueueDepth(queue_depth))
    return generate_latest(registry)
