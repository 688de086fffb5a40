"""Run service calls at the same moment from several threads, as concurrent requests would."""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.services.errors import AlreadyVoted


def race(app, attempts: Sequence[tuple[str, Callable[[], object]]], *,
         refused: str = "refused", timeout: float = 120) -> list[str]:
    """Start every (label, call) in its own thread and app context, released together.

    Each call runs in a writing unit of work and commits, as one request would. Returns the
    sorted outcomes: the label of each call that committed, `refused` for each that raised
    AlreadyVoted, and "error: …" for anything else, so a test can compare them as a whole.
    """
    start = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(label: str, call: Callable[[], object]) -> None:
        with app.app_context(), write_intent():
            start.wait()
            try:
                call()
                db.session.commit()
                result = label
            except AlreadyVoted:
                db.session.rollback()
                result = refused
            except Exception as error:  # noqa: BLE001 - reported as an outcome
                db.session.rollback()
                result = f"error: {error!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return sorted(outcomes)
