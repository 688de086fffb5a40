"""No acknowledged ballot is lost when the whole server dies with SIGKILL.

Clients cast continuously (distinct residents, over real HTTP) while the gunicorn master and
its workers are killed with SIGKILL at random moments and restarted, at least 20 times.
Afterwards every receipt a client was handed (a 302 to the receipt page) is in the database,
the chain verifies, each ballot scope has as many ballots as participations, and on SQLite
`PRAGMA integrity_check` is ok.
"""
from __future__ import annotations

import http.client
import os
import random
import threading
import time

import pytest

from tests.hardening.harness import (
    LOAD_POSTCODES,
    Browser,
    UnexpectedResponse,
    Voter,
    load_person,
    receipt_from_session_cookie,
    seed_load_cycle,
    stored_state,
)

pytestmark = [pytest.mark.db, pytest.mark.hardening]

KILLS = 20
CLIENTS = 2
ROLL_SIZE = 1500
#: each client gives up after this long, whatever happens to the server
CLIENT_TIME_LIMIT = 120.0


class CastingClient(threading.Thread):
    """Casts for person numbers first, first + step, … until stopped; keeps every receipt."""

    def __init__(self, port: int, slug: str, first: int, step: int, secret_key: str,
                 stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.slug, self.first, self.step = port, slug, first, step
        self.secret_key, self.stop_event = secret_key, stop
        self.receipts: list[str] = []
        #: casts sent whose answer never came, by error
        self.failures: dict[str, int] = {}
        #: requests of any step cut off by a kill
        self.interrupted = 0
        self.unexpected: list[str] = []

    def run(self) -> None:
        slugs = sorted(LOAD_POSTCODES)
        deadline = time.monotonic() + CLIENT_TIME_LIMIT
        number = self.first
        while not self.stop_event.is_set() and time.monotonic() < deadline \
                and number < ROLL_SIZE:
            browser = Browser(self.port, timeout=15)
            voter = Voter(browser, self.slug, load_person(number, slugs))
            try:
                voter.verify()
                voter.fill_ballot()
                voter.cast()
            except UnexpectedResponse as error:
                # A fresh resident is never "already voted"; anything else than a dropped
                # connection is a server fault.
                self.unexpected.append(f"{error.kind} {error.body[:200]!r}")
                number += self.step
                continue
            except (OSError, ValueError, http.client.HTTPException) as error:  # server died
                if not isinstance(error, ConnectionRefusedError):
                    self.interrupted += 1  # a request was in flight when the server died
                if voter.cast_sent:
                    # This resident may have voted: never try them again.
                    name = type(error).__name__
                    self.failures[name] = self.failures.get(name, 0) + 1
                    number += self.step
                time.sleep(0.05)
                continue
            finally:
                browser.close()
            number += self.step
            receipt = receipt_from_session_cookie(browser.cookies.get("session", ""),
                                                  self.secret_key)
            if receipt:
                self.receipts.append(receipt)
            else:
                self.unexpected.append("a 302 to the receipt without a receipt in the session")


def test_acknowledged_ballots_survive_sigkill(app, start_server, engine_name):
    slug = seed_load_cycle(app, ROLL_SIZE)
    # Preloading builds the app once per restart instead of once per worker: same code path
    # for requests, and the 20 restarts fit in about half a minute on a busy 2-core machine.
    server = start_server(workers=2, threads=2, PBVOTE_PRELOAD="1")
    seed = int(os.environ.get("PBVOTE_KILL9_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    stop = threading.Event()
    clients = [CastingClient(server.port, slug, first, CLIENTS, app.config["SECRET_KEY"], stop)
               for first in range(CLIENTS)]
    for client in clients:
        client.start()
    kills = 0

    def acknowledged() -> int:
        return sum(len(client.receipts) for client in clients)

    try:
        for _ in range(KILLS):
            # Kill at a random moment once this server has cast at least once (or after 5 s).
            before, waited_until = acknowledged(), time.monotonic() + 5
            while acknowledged() == before and time.monotonic() < waited_until:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.4))
            server.kill9()
            kills += 1
            server.start()
        time.sleep(0.5)  # a little casting on the last server
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
        server.kill9()

    receipts = [r for client in clients for r in client.receipts]
    unexpected = [u for client in clients for u in client.unexpected]
    dropped = sum(sum(client.failures.values()) for client in clients)
    interrupted = sum(client.interrupted for client in clients)
    state = stored_state(app, slug)
    context = (f"seed={seed} kills={kills} acknowledged={len(receipts)} "
               f"casts without answer={dropped} requests cut off={interrupted} "
               f"stored={len(state.receipts)}")
    print(context)

    assert kills >= 20, context
    assert len(receipts) >= 20, f"too little casting to test anything: {context}"
    assert interrupted >= 1, f"no kill hit a request in flight: {context}"
    assert not unexpected, f"{context}: {unexpected[:5]}"
    missing = set(receipts) - state.receipts
    assert not missing, f"acknowledged receipts lost: {sorted(missing)[:5]} ({context})"
    assert len(set(receipts)) == len(receipts), context
    assert state.chain_ok, f"{state.chain_problem} ({context})"
    for district_id, ballots, participations in state.scopes:
        assert ballots == participations, f"district {district_id}: {ballots} ballots, " \
                                          f"{participations} participations ({context})"
    assert state.ballot_entry_positions == state.ballot_positions, context
    if engine_name == "sqlite":
        assert state.integrity == "ok", context
