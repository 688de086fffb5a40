"""Issue #17: residents discuss ballot projects on the project page, under the rules of idea
comments (plain text, length, rate limit, reports, staff moderation with a public reason and
the author told); a comment names exactly one target, which the database enforces."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Comment, CommentReport, Cycle, OutboxMessage, Project
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.proposal_helpers import XSS, sign_in_by_email
from tests.staff_helpers import login, make_account

PROJECT = "/cycles/test-cycle/projects/AP-A"
OTHER = "/cycles/test-cycle/projects/AP-B"


@pytest.fixture
def cycle(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
        return made.cycle_id


def _post(client, url, body):
    page = client.get(url)
    if 'name="csrf_token"' not in page.text:
        page = client.get("/sign-in")
    return client.post(url + "/comments", data={"csrf_token": csrf_token(page.text),
                                                "body": body})


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_project_page_invites_residents_to_sign_in_and_comment(app, client, cycle):
    page = client.get(PROJECT)
    assert page.status_code == 200
    assert 'id="comments"' in page.text and "No comments yet." in page.text
    assert "Sign in with your email to comment" in page.text
    signed_out = _post(client, PROJECT, "Hello")
    assert signed_out.status_code == 302 and "/sign-in" in signed_out.location
    assert _count(app, Comment) == 0


def test_a_resident_comments_on_a_project_in_plain_text(app, client, cycle):
    sign_in_by_email(client, "neighbour@example.org")
    assert _post(client, PROJECT, "a\x00b").status_code == 422
    assert _post(client, PROJECT, "").status_code == 422
    too_long = _post(client, PROJECT, "x" * 2001)
    assert too_long.status_code == 422 and "at most 2000 characters" in too_long.text
    assert 'x' * 2001 in too_long.text  # what was typed is given back, not lost
    assert _count(app, Comment) == 0
    posted = _post(client, PROJECT, XSS[0] + "\n\n\n\nsecond line")
    assert posted.status_code == 302 and posted.location.endswith("/projects/AP-A#comments")
    page = client.get(PROJECT).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "Your comment is posted." in page
    assert "&lt;script&gt;" not in client.get(OTHER).text  # on this project only
    with app.app_context():
        comment = db.session.scalar(select(Comment))
        project = db.session.get(Project, comment.project_id)
        assert (project.code, comment.proposal_id) == ("AP-A", None)
        assert comment.body == XSS[0] + "\n\nsecond line"


def test_project_and_idea_comments_share_one_rate_limit(app, client, cycle):
    sign_in_by_email(client, "neighbour@example.org")
    for number in range(5):
        assert _post(client, PROJECT, f"Comment {number}").status_code == 302
    flood = _post(client, OTHER, "One too many")
    assert flood.status_code == 429 and "please wait" in flood.text
    assert _count(app, Comment) == 5


def test_staff_cannot_comment_as_residents(app, cycle):
    from pbvote.services import discussion
    from pbvote.services.errors import DomainError

    with app.app_context(), write_intent():
        staff = db.session.get(Account, make_account("staff")[0])
        project = db.session.scalar(select(Project).where(Project.code == "AP-A"))
        with pytest.raises(DomainError) as refused:
            discussion.post_project_comment(project, staff, "Official word")
        assert refused.value.status == 403


def test_no_comments_once_the_cycle_is_archived(app, client, cycle):
    sign_in_by_email(client, "neighbour@example.org")
    with app.app_context(), write_intent():
        db.session.get(Cycle, cycle).archived_at = utcnow()
        db.session.commit()
    refused = _post(client, PROJECT, "Too late?")
    assert refused.status_code == 409 and "cannot be discussed" in refused.text
    assert _count(app, Comment) == 0


def test_report_then_staff_hide_a_project_comment_and_the_author_is_told(app, client, cycle):
    sign_in_by_email(client, "neighbour@example.org")
    _post(client, PROJECT, "You are all idiots")
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    reporter = app.test_client()
    page = reporter.get(PROJECT).text
    assert f"/projects/AP-A/comments/{comment_id}/report" in page
    report_url = f"{PROJECT}/comments/{comment_id}/report"
    # the comment is on AP-A: reporting it through another project's address finds nothing
    assert reporter.post(f"{OTHER}/comments/{comment_id}/report", data={
        "csrf_token": csrf_token(page), "reason": "Insults"}).status_code == 404
    assert reporter.post(report_url, data={"csrf_token": csrf_token(page),
                                           "reason": ""}).status_code == 422
    assert reporter.post(report_url, data={"csrf_token": csrf_token(page),
                                           "reason": "Insults"}).status_code == 302
    again = reporter.post(report_url, data={"csrf_token": csrf_token(page), "reason": "x"})
    assert again.status_code == 409
    assert _count(app, CommentReport) == 1

    with app.app_context():
        _, email, password, secret = make_account("staff")
    staff = app.test_client()
    login(staff, email, password, secret)
    queue = staff.get("/staff/cycles/test-cycle/moderation/")
    assert queue.status_code == 200 and "You are all idiots" in queue.text
    assert "Comment on the ballot project AP-A" in queue.text
    hidden = staff.post(f"/staff/cycles/test-cycle/moderation/{comment_id}", data={
        "csrf_token": csrf_token(queue.text), "decision": "hide", "reason": "Personal attack"})
    assert hidden.status_code == 302
    public = client.get(PROJECT).text
    assert "You are all idiots" not in public and "Hidden by staff: Personal attack" in public
    with app.app_context():
        told = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == "neighbour@example.org")).all()[-1]
        assert db.session.scalar(select(Comment.body)) == "You are all idiots"
    assert "ballot project AP-A" in told.body and "Personal attack" in told.body


@pytest.mark.parametrize("target", ["neither", "both"])
def test_a_comment_has_exactly_one_target(app, cycle, target):
    from pbvote.services.demo_ideas import _resident
    from pbvote.services.proposals import residents as ideas

    with app.app_context(), write_intent():
        author = _resident("author@example.org")
        project = db.session.scalar(select(Project).where(Project.code == "AP-A"))
        proposal_id = None
        if target == "both":
            from tests.proposal_helpers import make_intake_cycle

            other = db.session.get(Cycle, make_intake_cycle("intake-cycle"))
            proposal_id = ideas.submit(other, author, {
                "title": "Benches", "description": "Somewhere to wait.",
                "category": "Parks and public space", "district": "approval",
                "location": "Main Street", "cost_estimate": ""}).id
            db.session.commit()
        db.session.add(Comment(cycle_id=cycle, author_id=author.id, body="x", created_at=utcnow(),
                               hidden=False, hidden_reason="", proposal_id=proposal_id,
                               project_id=project.id if target == "both" else None))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
