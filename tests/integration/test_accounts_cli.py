"""`pbvote create-admin`: the first administrator, and clear refusals for bad input."""
from __future__ import annotations

from sqlalchemy import func, select

from pbvote.infra.extensions import db
from pbvote.models import Account, LogEntry
from tests.conftest import csrf_token

PASSWORD = "a sturdy admin passphrase"


def _accounts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Account))


def test_create_admin_then_sign_in_and_enrol(app, runner):
    result = runner.invoke(args=["create-admin", " First.Admin@City.Example ", "--password-stdin",
                                 "--name", "First Admin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Created administrator first.admin@city.example" in result.output
    assert "/staff/login" in result.output and "TOTP" in result.output
    assert PASSWORD not in result.output
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert (account.email, account.role, account.display_name) == (
            "first.admin@city.example", "admin", "First Admin")
        assert account.password_hash.startswith("$argon2id$") and account.totp_secret is None
        logged = db.session.scalar(select(LogEntry.entry_json).where(
            LogEntry.kind == "account.created"))
        assert '"actor":"cli"' in logged and PASSWORD not in logged

    client = app.test_client()
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={
        "csrf_token": csrf_token(page.text), "email": "first.admin@city.example",
        "password": PASSWORD})
    assert response.headers["Location"].startswith("/staff/enrol")


def test_create_admin_prompts_for_the_password_twice(app, runner):
    result = runner.invoke(args=["create-admin", "prompted@example.org"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert _accounts(app) == 1


def test_bad_input_exits_non_zero_and_writes_nothing(app, runner):
    first = runner.invoke(args=["create-admin", "admin@example.org", "--password-stdin"],
                          input=PASSWORD + "\n")
    assert first.exit_code == 0
    duplicate = runner.invoke(args=["create-admin", "ADMIN@example.org", "--password-stdin"],
                              input=PASSWORD + "\n")
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    invalid = runner.invoke(args=["create-admin", "not-an-email", "--password-stdin"],
                            input=PASSWORD + "\n")
    assert invalid.exit_code == 2 and "email address" in invalid.output
    weak = runner.invoke(args=["create-admin", "weak@example.org", "--password-stdin"],
                         input="short\n")
    assert weak.exit_code == 2 and "at least 12 characters" in weak.output
    assert _accounts(app) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LogEntry)) == 1

