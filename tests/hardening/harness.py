"""Real servers and real HTTP for the hardening tests and benchmarks/cast_load.py.

`GunicornServer` runs `pbvote.wsgi:app` under gunicorn in its own process group on
127.0.0.1, so a test can SIGKILL the master and every worker at once. `Browser` is a small
stdlib HTTP/1.1 client with one keep-alive connection and a cookie jar, which fetches CSRF
tokens from pages as a person's browser would. `Voter` walks the resident's path.
Every wait here is bounded in time.
"""
from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
GUNICORN_CONFIG = REPO_ROOT / "config" / "gunicorn.conf.py"
#: a static file: the "trivial endpoint" that shows the server's own ceiling
TRIVIAL_PATH = "/static/css/pbvote.css"
#: every person added by add_load_roll lives at one of these, by district slug
LOAD_POSTCODES = {"northbank": "55101", "old-town": "55102", "eastside": "55103"}
#: a valid ballot for each demo district, as the ballot form posts it
DEMO_BALLOT_FORMS = {
    "northbank": {"project": ["NB-1", "NB-3"]},
    "old-town": {"project": ["OT-1", "OT-2"]},
    "eastside": {"rank_ES-2": "1", "rank_ES-1": "2", "rank_ES-5": "3"},
}
CSRF_PATTERN = re.compile(r'name="(?:[a-z]+-)?csrf_token" type="hidden" value="([^"]+)"')
RECEIPT_PATTERN = re.compile(r'class="receipt-code"><strong>([^<]+)</strong>')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- the roll of known people


@dataclass(frozen=True)
class LoadPerson:
    """A roll entry whose clear details the load client knows."""

    number: int
    district: str
    last_name: str
    birth_date: dt.date
    postcode: str


def load_person(number: int, district_slugs: list[str]) -> LoadPerson:
    district = district_slugs[number % len(district_slugs)]
    return LoadPerson(number, district, f"Loadtest{number}",
                      dt.date(1950, 1, 1) + dt.timedelta(days=number % 18000),
                      LOAD_POSTCODES[district])


def add_load_roll(cycle, count: int, first: int = 0, batch: int = 5000) -> None:
    """Add people `first`… `first+count-1` to the cycle's roll (needs an app context).

    Goes through services.roll.add_roll_entry, so the hashes are the real ones; flushes in
    batches to keep memory flat on large rolls. The caller commits.
    """
    from pbvote.infra.extensions import db
    from pbvote.services.roll import RollPerson, add_roll_entry

    districts = {d.slug: d for d in cycle.districts}
    slugs = sorted(LOAD_POSTCODES)
    pending = []
    for offset in range(count):
        person = load_person(first + offset, slugs)
        pending.append(add_roll_entry(cycle, districts[person.district], RollPerson(
            last_name=person.last_name, birth_date=person.birth_date, postcode=person.postcode,
            roll_number=f"L{person.number:08d}")))
        if len(pending) >= batch:
            db.session.flush()
            for entry in pending:
                db.session.expunge(entry)
            pending.clear()
    db.session.flush()


def seed_load_cycle(app, roll_size: int) -> str:
    """The demo cycle plus `roll_size` known people; returns the cycle slug."""
    from sqlalchemy import select

    from pbvote.infra.db import write_intent
    from pbvote.infra.extensions import db
    from pbvote.models import Cycle
    from pbvote.services.demo import DEMO_SLUG, seed_demo

    with app.app_context(), write_intent():
        seed_demo(voters=1)
        db.session.commit()
        cycle = db.session.scalars(select(Cycle).where(Cycle.slug == DEMO_SLUG)).one()
        add_load_roll(cycle, roll_size)
        db.session.commit()
    return DEMO_SLUG


# ---------------------------------------------------------------------------- the server


class GunicornServer:
    """gunicorn in a process group of its own, bound to 127.0.0.1:port."""

    def __init__(self, port: int, env: dict[str, str], log_path: Path, workers: int = 2,
                 threads: int = 2, config: str = "default"):
        self.port = port
        self.log_path = log_path
        self.env = {**os.environ, **env, "PBVOTE_BIND": f"127.0.0.1:{port}",
                    "PBVOTE_WORKERS": str(workers), "PBVOTE_THREADS": str(threads),
                    "PBVOTE_CONFIG": config}
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, ready_timeout: float = 30.0) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "pbvote.wsgi:app"],
                cwd=REPO_ROOT, env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True)
        finally:
            log.close()
        self.starts += 1
        self.wait_ready(ready_timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see "
                                   f"{self.log_path}:\n{self.log_tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", TRIVIAL_PATH)
                if connection.getresponse().status == 200:
                    connection.close()
                    return
                connection.close()
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn on port {self.port} not ready after {timeout} s:\n"
                           f"{self.log_tail()}")

    def kill9(self) -> None:
        """SIGKILL the master and all its workers at once, and reap the master."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL for whatever is left; always reaps."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        finally:
            self.kill9()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def server_environment(database_url: str, instance_path: Path, secret: str = "hardening-secret",
                       identity_key: str = "hardening-identity",
                       ratelimit_uri: str | None = None) -> dict[str, str]:
    env = {"PBVOTE_DATABASE_URL": database_url, "PBVOTE_SECRET_KEY": secret,
           "PBVOTE_IDENTITY_KEY": identity_key, "PBVOTE_INSTANCE_PATH": str(instance_path)}
    if ratelimit_uri:
        env["PBVOTE_RATELIMIT_STORAGE_URI"] = ratelimit_uri
    return env


# ---------------------------------------------------------------------------- the client


class Browser:
    """One keep-alive HTTP/1.1 connection with a cookie jar; no redirects are followed.

    A plain socket rather than http.client: the load generator shares the machine with the
    server, and http.client's header parsing (the email package) cost it more CPU per
    request than the rest of the client together.
    """

    def __init__(self, port: int, timeout: float = 10.0):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.connection: socket.socket | None = None
        self._buffer = b""

    def request(self, method: str, path: str, form: dict | None = None
                ) -> tuple[int, dict[str, str], str]:
        """(status, headers with lower-case names, body text). Raises OSError/HTTPException."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                 "Connection: keep-alive"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = b""
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
        if form is not None or method not in ("GET", "HEAD"):
            lines.append(f"Content-Length: {len(body)}")
        try:
            if self.connection is not None and not self._still_open():
                self.close()  # the server closed an idle keep-alive connection: open a new one
            if self.connection is None:
                self.connection = socket.create_connection(("127.0.0.1", self.port),
                                                           timeout=self.timeout)
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._buffer = b""
            self.connection.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
            status, headers, cookies, text = self._read_response(method)
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        for name, value, cleared in cookies:
            if value and not cleared:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, text

    def _still_open(self) -> bool:
        # Between responses an open connection has nothing to read; a closed one reads as
        # end of file at once. (A socket with a timeout ignores MSG_DONTWAIT, hence select.)
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return True
        try:
            return self.connection.recv(1, socket.MSG_PEEK) != b""
        except OSError:
            return False

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            self._receive()
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._receive()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _receive(self) -> None:
        chunk = self.connection.recv(65536)
        if not chunk:
            raise http.client.RemoteDisconnected("the server closed the connection")
        self._buffer += chunk

    def _read_response(self, method: str):
        status_line, *header_lines = self._read_until(b"\r\n\r\n").decode(
            "latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise http.client.BadStatusLine(status_line)
        headers: dict[str, str] = {}
        cookies: list[tuple[str, str, bool]] = []
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                cookies.append((cookie_name.strip(), rest.split(";", 1)[0],
                                "expires=thu, 01 jan 1970" in value.lower()))
            headers[name] = value
        status = int(parts[1])
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif "content-length" in headers:
            body = self._read_exactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            pieces = []
            while size := int(self._read_until(b"\r\n").split(b";")[0], 16):
                pieces.append(self._read_exactly(size))
                self._read_until(b"\r\n")
            self._read_until(b"\r\n")  # the empty trailer
            body = b"".join(pieces)
        else:  # the body runs to the end of the connection
            try:
                while True:
                    self._receive()
            except http.client.RemoteDisconnected:
                pass
            body, self._buffer = self._buffer, b""
            headers["connection"] = "close"
        return status, headers, cookies, body.decode("utf-8", errors="replace")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
            self._buffer = b""


def csrf_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    if not match:
        raise ValueError("page has no CSRF token")
    return match.group(1)


class UnexpectedResponse(Exception):
    """A step of the path answered something other than what a working server answers."""

    def __init__(self, step: str, status: int, body: str = ""):
        self.step, self.status = step, status
        kind = "already voted" if status == 409 else f"HTTP {status}"
        super().__init__(f"{step}: {kind}")
        self.kind = f"{step}: {kind}"
        self.body = body[:300]


def path_only(location: str) -> str:
    return urlsplit(location).path or "/"


class Voter:
    """One resident on the path, through one Browser. Each method is one or two requests."""

    def __init__(self, browser: Browser, cycle_slug: str, person: LoadPerson):
        self.browser = browser
        self.base = f"/cycles/{cycle_slug}/vote"
        self.person = person
        self.csrf: str | None = None
        #: once the cast was sent this person may have voted, acknowledged or not
        self.cast_sent = False

    def _expect(self, step: str, result, status: int, location_suffix: str | None = None):
        got, headers, body = result
        if got != status or (location_suffix and
                             not headers.get("location", "").endswith(location_suffix)):
            raise UnexpectedResponse(step, got, body)
        return headers, body

    def verify(self) -> None:
        """GET the verify page, POST the roll match → redirect to the ballot."""
        district = self.person.district
        _, page = self._expect("verify page", self.browser.request(
            "GET", f"{self.base}/{district}/verify"), 200)
        self._expect("verify", self.browser.request("POST", f"{self.base}/{district}/verify", {
            "method": "roll", "roll-csrf_token": csrf_from(page),
            "roll-last_name": self.person.last_name,
            "roll-birth_date": self.person.birth_date.isoformat(),
            "roll-postcode_or_roll": self.person.postcode}), 302, "/vote/ballot")

    def fill_ballot(self) -> None:
        """GET the ballot, POST a valid one → redirect to the review."""
        _, page = self._expect("ballot page", self.browser.request("GET", f"{self.base}/ballot"),
                               200)
        self.csrf = csrf_from(page)
        self._expect("ballot", self.browser.request("POST", f"{self.base}/ballot", {
            "csrf_token": self.csrf, **DEMO_BALLOT_FORMS[self.person.district]}),
            302, "/vote/review")

    def review(self) -> None:
        _, page = self._expect("review page", self.browser.request("GET", f"{self.base}/review"),
                               200)
        self.csrf = csrf_from(page)

    def cast(self) -> dict[str, str]:
        """POST the cast; returns the response headers of the 302 to the receipt."""
        self.cast_sent = True
        headers, _ = self._expect("cast", self.browser.request(
            "POST", f"{self.base}/cast", {"csrf_token": self.csrf}), 302, "/vote/receipt")
        return headers

    def receipt(self) -> str:
        _, page = self._expect("receipt page", self.browser.request(
            "GET", f"{self.base}/receipt"), 200)
        match = RECEIPT_PATTERN.search(page)
        if not match:
            raise UnexpectedResponse("receipt page", 200, page)
        return match.group(1).strip()

    def journey(self) -> str:
        """eligibility → ballot → review → cast → receipt; returns the receipt code."""
        self.verify()
        self.fill_ballot()
        self.review()
        self.cast()
        return self.receipt()


def receipt_from_session_cookie(cookie_value: str, secret_key: str) -> str | None:
    """Read the receipt the server put in the (signed) session cookie of the cast response."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    app = Flask("receipt-reader")
    app.secret_key = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    try:
        data = serializer.loads(cookie_value)
    except Exception:  # noqa: BLE001 - a missing or foreign cookie holds no receipt
        return None
    return (data.get("receipt") or {}).get("code")


# ------------------------------------------------------------------ checks after the fact


@dataclass
class StoredState:
    receipts: set[str]
    #: (district id, ballots, participations) per ballot scope
    scopes: list[tuple[int, int, int]]
    chain_ok: bool
    chain_problem: str | None
    chain_length: int
    #: chain positions of the cycle's "ballot" entries, and of the stored ballots, sorted
    ballot_entry_positions: list[int]
    ballot_positions: list[int]
    #: positions of all the chain's entries, in position order
    entry_positions: list[int]
    integrity: str | None


def stored_state(app, cycle_slug: str) -> StoredState:
    """What the database holds for the cycle, read in a fresh session."""
    from sqlalchemy import func, select, text

    from pbvote.infra.extensions import db
    from pbvote.models import Ballot, Chain, Cycle, District, LogEntry, Participation
    from pbvote.services.log import verify_stored_chain

    with app.app_context():
        cycle = db.session.scalars(select(Cycle).where(Cycle.slug == cycle_slug)).one()
        ballots = dict(db.session.execute(select(Ballot.district_id, func.count())
                                          .where(Ballot.cycle_id == cycle.id)
                                          .group_by(Ballot.district_id)).all())
        participations = dict(db.session.execute(
            select(Participation.district_id, func.count())
            .where(Participation.cycle_id == cycle.id).group_by(Participation.district_id)).all())
        district_ids = db.session.scalars(select(District.id).where(
            District.cycle_id == cycle.id)).all()
        report = verify_stored_chain(cycle.chain_id)
        integrity = None
        if db.engine.dialect.name == "sqlite":
            integrity = db.session.execute(text("PRAGMA integrity_check")).scalar()
        state = StoredState(
            receipts=set(db.session.scalars(select(Ballot.receipt).where(
                Ballot.cycle_id == cycle.id))),
            scopes=[(d, ballots.get(d, 0), participations.get(d, 0)) for d in district_ids],
            chain_ok=report.ok, chain_problem=report.problem,
            chain_length=db.session.get(Chain, cycle.chain_id).length,
            ballot_entry_positions=sorted(db.session.scalars(select(LogEntry.position).where(
                LogEntry.chain_id == cycle.chain_id, LogEntry.kind == "ballot"))),
            ballot_positions=sorted(db.session.scalars(select(Ballot.chain_position).where(
                Ballot.cycle_id == cycle.id))),
            entry_positions=list(db.session.scalars(select(LogEntry.position).where(
                LogEntry.chain_id == cycle.chain_id).order_by(LogEntry.position))),
            integrity=integrity)
        db.session.remove()
    return state
