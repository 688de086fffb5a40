"""Two gunicorn instances on one PostgreSQL database and one Redis.

A resident who casts through both servers at once gets exactly one ballot; many residents
casting through both at once leave one unforked chain with positions 1…n.

PostgreSQL only, on purpose: several app servers need a database server. SQLite is one file
on one machine, which the kill -9 test covers.
"""
from __future__ import annotations

import os
import secrets
import threading

import pytest

from tests.hardening.harness import (
    LOAD_POSTCODES,
    Browser,
    UnexpectedResponse,
    Voter,
    csrf_from,
    load_person,
    seed_load_cycle,
    stored_state,
)

pytestmark = [pytest.mark.db, pytest.mark.hardening,
              pytest.mark.parametrize("engine_name", ["postgresql"])]

#: Redis database for these tests' rate-limit storage (both servers share it)
REDIS_URI = os.environ.get("PBVOTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
SLUGS = sorted(LOAD_POSTCODES)


@pytest.fixture(autouse=True)
def _postgresql_configured():
    engines = os.environ.get("PBVOTE_TEST_ENGINES", "sqlite,postgresql")
    if "postgresql" not in engines:
        pytest.skip("needs PostgreSQL, which PBVOTE_TEST_ENGINES leaves out")


@pytest.fixture
def two_servers(app, start_server):
    import redis

    # Keys of this test only: another run on the same Redis, or an earlier one, neither
    # counts towards these limits nor loses its own counts to a flush.
    prefix = f"pbvote-test-{secrets.token_hex(4)}"
    slug = seed_load_cycle(app, 300)
    servers = [start_server(workers=2, threads=2, PBVOTE_RATELIMIT_STORAGE_URI=REDIS_URI,
                            PBVOTE_RATELIMIT_KEY_PREFIX=prefix)
               for _ in range(2)]
    yield slug, servers, prefix
    store = redis.Redis.from_url(REDIS_URI)
    for key in store.scan_iter(match=f"*{prefix}*"):
        store.delete(key)


def _prepared_voter(port: int, slug: str, number: int) -> Voter:
    voter = Voter(Browser(port), slug, load_person(number, SLUGS))
    voter.verify()
    voter.fill_ballot()
    return voter


def _cast_all_at_once(voters: list[Voter]) -> list[str]:
    """POST /cast for every voter from its own thread, released together; outcome per voter."""
    barrier = threading.Barrier(len(voters))
    outcomes: list[str] = [""] * len(voters)

    def cast(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            voters[index].cast()
            outcomes[index] = "cast"
        except UnexpectedResponse as error:
            outcomes[index] = "already voted" if error.status == 409 else error.kind
        except OSError as error:
            outcomes[index] = type(error).__name__
        finally:
            voters[index].browser.close()

    threads = [threading.Thread(target=cast, args=(i,)) for i in range(len(voters))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_one_identity_through_both_servers_gets_one_ballot(app, two_servers):
    slug, servers, _prefix = two_servers
    people = range(5)
    sessions_per_person = 6
    for number in people:
        # Six verified sessions of the same resident, half on each server, cast together.
        voters = [_prepared_voter(servers[i % 2].port, slug, number)
                  for i in range(sessions_per_person)]
        outcomes = _cast_all_at_once(voters)
        assert sorted(outcomes) == ["already voted"] * (sessions_per_person - 1) + ["cast"], \
            f"resident {number}: {outcomes}"
    state = stored_state(app, slug)
    assert sum(b for _, b, _ in state.scopes) == len(people)
    assert all(b == p for _, b, p in state.scopes), state.scopes
    assert state.chain_ok, state.chain_problem


def test_concurrent_casts_through_both_servers_keep_one_ordered_chain(app, two_servers):
    slug, servers, _prefix = two_servers
    voters = [_prepared_voter(servers[number % 2].port, slug, number)
              for number in range(100, 140)]
    outcomes = _cast_all_at_once(voters)
    assert outcomes == ["cast"] * len(voters), outcomes
    state = stored_state(app, slug)
    assert state.chain_ok, state.chain_problem
    # Strictly ordered, no fork: every ballot has its own entry, positions are unique, and
    # the chain's length counts each entry once.
    assert len(state.ballot_positions) == len(voters)
    assert state.ballot_positions == state.ballot_entry_positions
    assert len(set(state.ballot_positions)) == len(voters)
    assert state.entry_positions == list(range(1, state.chain_length + 1))
    assert all(b == p for _, b, p in state.scopes), state.scopes


def test_rate_limits_are_counted_across_both_servers(app, two_servers):
    """Staff sign-in allows 10 attempts a minute per address, across all servers together."""
    _, servers, prefix = two_servers
    limit = int(app.config.get("SIGN_IN_RATE_LIMIT", "10/minute").split("/")[0])
    statuses = []
    for attempt in range(limit + 1):
        browser = Browser(servers[attempt % 2].port)
        status, _, page = browser.request("GET", "/staff/login")
        assert status == 200
        status, _, _ = browser.request("POST", "/staff/login", {
            "csrf_token": csrf_from(page), "email": "nobody@example.org",
            "password": "not the password", "next": ""})
        browser.close()
        statuses.append(status)
    # With per-server (memory) storage each server would allow `limit` on its own.
    assert statuses[:limit] == [401] * limit, statuses
    assert statuses[limit] == 429, statuses
    import redis

    assert any(redis.Redis.from_url(REDIS_URI).scan_iter(match=f"*{prefix}*")), \
        "the counts are not under this test's key prefix"
