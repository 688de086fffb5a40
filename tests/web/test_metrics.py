"""/metrics: Prometheus text for the configured address or token only; requests, latency,
committed ballots by channel, refusals by reason code, job queue depth; nothing personal and
nothing per project or district."""
from __future__ import annotations

import re

import pytest

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.services import jobs, voting
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import NotEligible
from tests.factories import make_cycle

pytestmark = pytest.mark.db


def _sample(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{key}="{value}"' in line for key, value in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_only_for_the_configured_address_or_token(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=far).status_code == 404
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics", environ_base=far,
                      headers={"Authorization": "Bearer wrong"}).status_code == 404
    allowed = client.get("/metrics", environ_base=far,
                         headers={"Authorization": "Bearer s3cret-token"})
    assert allowed.status_code == 200 and "Set-Cookie" not in allowed.headers


def test_metrics_count_requests_ballots_refusals_and_queue_depth(app):
    client = app.test_client()
    before = client.get("/metrics").text
    with app.app_context(), write_intent():
        made = make_cycle("metrics-cycle")
        db.session.commit()
        cycle = get_cycle(made.slug)
        district = cycle.district_by_slug("approval")
        voter = voting.verify_by_code(cycle, district, made.codes["approval"][0])
        voting.cast_ballot(voter, ["AP-A"])
        db.session.rollback()  # not committed: not counted
        voter = voting.verify_by_code(cycle, district, made.codes["approval"][0])
        voting.cast_ballot(voter, ["AP-A"])
        db.session.commit()
        with pytest.raises(NotEligible):
            voting.verify_by_code(cycle, district, "ZZZZ-ZZZZ-ZZZZ")
        jobs.enqueue("mail.send", {"recipient": "x@example.org", "subject": "s", "body": "b"})
        db.session.commit()
    client.get("/healthz")
    after = client.get("/metrics").text
    assert _sample(after, "pbvote_ballots_cast_total", channel="online") - _sample(
        before, "pbvote_ballots_cast_total", channel="online") == 1
    refusals = re.findall(r'pbvote_eligibility_refusals_total\{reason="([^"]+)"\}', after)
    assert refusals and all(re.fullmatch(r"[A-Za-z_]+", reason) for reason in refusals)
    assert _sample(after, "pbvote_http_requests_total", endpoint="health.healthz",
                   method="GET", status="200") >= 1
    assert _sample(after, "pbvote_http_request_duration_seconds_count",
                   endpoint="health.healthz") >= 1
    assert _sample(after, "pbvote_jobs_queue_depth") == 1
    # nothing that names a project, a district, a code or a person
    for secret in ("AP-A", "approval", made.codes["approval"][0], "metrics-cycle", "ZZZZ"):
        assert secret not in after


def test_metrics_add_up_the_processes_of_a_gunicorn_server(engine_name, migrated_urls,
                                                           tmp_path):
    """PROMETHEUS_MULTIPROC_DIR: two worker processes serve requests, a third scrapes the
    sum (what each gunicorn worker does)."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder),
           "PBVOTE_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONPATH": str(REPO_ROOT)}
    script = (
        "import sys\n"
        "from pbvote import create_app\n"
        f"app = create_app('testing', SQLALCHEMY_DATABASE_URI={migrated_urls(engine_name)!r})\n"
        "client = app.test_client()\n"
        "if sys.argv[1] == 'serve':\n"
        "    for _ in range(3): assert client.get('/healthz').status_code == 200\n"
        "else:\n"
        "    print(client.get('/metrics').text)\n")
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script, "serve"], env=env, check=True,
                       cwd=REPO_ROOT)
    scraped = subprocess.run([sys.executable, "-c", script, "scrape"], env=env, check=True,
                             cwd=REPO_ROOT, capture_output=True, text=True).stdout
    assert _sample(scraped, "pbvote_http_requests_total", endpoint="health.healthz") == 6
