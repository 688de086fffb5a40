"""The idea pages end to end: sending, editing, supporting, the staff queue and decisions,
promotion shown on the cycle page, search and filters; XSS payloads in every text field
stay inert on every page that shows them; SQL-injection strings in search are just text."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Proposal
from pbvote.services import proposals
from tests.proposal_helpers import XSS, make_intake_cycle, png_bytes, sign_in_by_email, token
from tests.staff_helpers import login, make_account

FORM = {"title": "Light the underpass", "description": "It is dark.\nPeople avoid it.",
        "category": "Street lighting", "district": "approval", "location": "Mill Road",
        "cost_estimate": "15000"}


@pytest.fixture
def site(app):
    with app.app_context():
        make_intake_cycle()
        staff = make_account("staff")
    resident = app.test_client()
    sign_in_by_email(resident, "ada@example.org")
    other = app.test_client()
    sign_in_by_email(other, "bob@example.org")
    staff_client = app.test_client()
    login(staff_client, staff[1], staff[2], staff[3])
    return {"app": app, "resident": resident, "other": other, "staff": staff_client}


def _send(client, **changes):
    data = {**FORM, **changes}
    data["csrf_token"] = token(client, "/cycles/test-cycle/ideas/new")
    return client.post("/cycles/test-cycle/ideas/new", data=data,
                       content_type="multipart/form-data")


def _sent_id(response) -> int:
    assert response.status_code == 302, response.text[:2000]
    return int(re.search(r"/my/ideas/(\d+)", response.headers["Location"]).group(1))


def _staff_post(site, proposal_id, action, **data):
    data["csrf_token"] = token(site["staff"], f"/staff/ideas/{proposal_id}")
    return site["staff"].post(f"/staff/ideas/{proposal_id}/{action}", data=data)


def test_a_resident_sends_an_idea_with_a_photo_and_follows_it(site):
    import io

    response = _send(site["resident"], photo=(io.BytesIO(png_bytes()), "me.png"))
    proposal_id = _sent_id(response)
    page = site["resident"].get(f"/my/ideas/{proposal_id}?sent=1")
    assert page.status_code == 200 and "Light the underpass" in page.text
    assert "Change this idea" in page.text
    photo = site["resident"].get(f"/ideas/{proposal_id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    board = site["other"].get("/cycles/test-cycle/ideas")
    assert f"#{proposal_id} Light the underpass" in board.text
    assert site["resident"].get("/my/ideas").status_code == 200


def test_bad_submissions_come_back_with_messages_by_field(site):
    import io

    response = _send(site["resident"], title="", category="Casinos", cost_estimate="lots")
    assert response.status_code == 422
    for message in ("Give your idea a short title.", "Choose a category from the list.",
                    "Enter the cost as a whole number"):
        assert message in response.text
    response = _send(site["resident"], photo=(io.BytesIO(b"GIF89a not really"), "x.gif"))
    assert response.status_code == 415 and "JPEG or PNG" in response.text
    with site["app"].app_context():
        assert db.session.scalars(select(Proposal)).first() is None


def test_control_characters_in_an_idea_are_errors_beside_their_fields(site):
    """Before: a page of its own (the idea as typed was lost); the rules would even have
    dropped the character silently had it got through."""
    response = _send(site["resident"], title="Light the\u202e underpass",
                     description="Dark at\x00 night")
    assert response.status_code == 422
    for field, code in (("title", "U+202E"), ("description", "U+0000")):
        error = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>',
                          response.text, re.S)
        assert error and code in error.group(1), field
    assert 'value="Light the' in response.text  # what was typed comes back
    with site["app"].app_context():
        assert db.session.scalars(select(Proposal)).first() is None


def test_the_error_summary_links_each_error_to_its_field(site):
    """As on the online ballot: the summary takes the focus, each error is a link to the
    field at fault, and that field points back at its error and hint."""
    response = _send(site["resident"], title="", category="Casinos", cost_estimate="lots")
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary"[^>]*>.*?</div>', response.text, re.S)
    assert summary and "autofocus" in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    targets = re.findall(r'<a href="#([^"]+)">', summary.group(0))
    assert sorted(targets) == ["category", "cost_estimate", "title"]
    for target in targets:
        control = re.search(rf'<(?:input|select|textarea)[^>]*\sid="{target}"[^>]*>',
                            response.text).group(0)
        assert 'aria-invalid="true"' in control
        described_by = re.search(r'aria-describedby="([^"]+)"', control).group(1).split()
        assert f"{target}-error" in described_by
        assert f'id="{target}-error"' in response.text
    assert 'aria-describedby="title-hint title-error"' in response.text
    untouched = re.search(r'<input type="text" id="location"[^>]*>', response.text).group(0)
    assert 'aria-describedby="location-hint"' in untouched and "aria-invalid" not in untouched


def test_outside_intake_nothing_is_sent(site):
    with site["app"].app_context(), write_intent():
        from pbvote.models import Cycle

        cycle = db.session.scalars(select(Cycle)).one()
        intake = cycle.phase_window("intake")
        intake.starts_at = intake.starts_at.replace(year=2020)
        intake.ends_at = intake.ends_at.replace(year=2020)
        db.session.commit()
    assert site["resident"].get("/cycles/test-cycle/ideas/new").status_code == 403
    response = site["resident"].post("/cycles/test-cycle/ideas/new", data={
        **FORM, "csrf_token": token(site["resident"], "/my/ideas")})
    assert response.status_code == 403 and "not collecting ideas" in response.text


def test_editing_ends_when_review_starts_and_the_author_sees_every_reason(site):
    proposal_id = _sent_id(_send(site["resident"]))
    data = {**FORM, "title": "Light the whole underpass",
            "csrf_token": token(site["resident"], f"/my/ideas/{proposal_id}/edit")}
    assert site["resident"].post(f"/my/ideas/{proposal_id}/edit", data=data).status_code == 302
    assert site["other"].get(f"/my/ideas/{proposal_id}").status_code == 404  # not theirs
    assert _staff_post(site, proposal_id, "status", target="under_review").status_code == 302
    assert site["resident"].get(f"/my/ideas/{proposal_id}/edit").status_code == 409
    assert site["resident"].post(f"/my/ideas/{proposal_id}/edit", data=data).status_code == 409
    assert _staff_post(site, proposal_id, "status", target="needs_information",
                       question="Which end?").status_code == 302
    page = site["resident"].get(f"/my/ideas/{proposal_id}")
    assert "Which end?" in page.text and "Send answer" in page.text
    response = site["resident"].post(f"/my/ideas/{proposal_id}/answer", data={
        "csrf_token": token(site["resident"], f"/my/ideas/{proposal_id}"),
        "answer": "The east end"})
    assert response.status_code == 302
    assert _staff_post(site, proposal_id, "status", target="not_feasible",
                       reason="Railway land").status_code == 302
    page = site["resident"].get(f"/my/ideas/{proposal_id}")
    for text in ("Which end?", "The east end", "Railway land", "Not feasible"):
        assert text in page.text


def test_illegal_steps_are_refused_on_the_staff_page_with_a_reason(site):
    proposal_id = _sent_id(_send(site["resident"]))
    response = _staff_post(site, proposal_id, "status", target="accepted")
    assert response.status_code == 409
    assert "cannot become accepted" in response.text
    assert _staff_post(site, proposal_id, "status", target="under_review").status_code == 302
    response = _staff_post(site, proposal_id, "status", target="feasible", cost="")
    assert response.status_code == 422 and "Enter the cost estimate" in response.text
    response = _staff_post(site, proposal_id, "hide", reason="")
    assert response.status_code == 422 and "Enter the reason" in response.text
    with site["app"].app_context():
        assert db.session.get(Proposal, proposal_id).status == "under_review"


def test_support_once_then_merge_and_promote_to_a_project_page(site):
    first = _sent_id(_send(site["resident"]))
    second = _sent_id(_send(site["other"], title="Underpass lamps"))
    third = _sent_id(_send(site["other"], title="Lamps by the school"))
    support_token = token(site["other"], f"/cycles/test-cycle/ideas/{first}")
    assert site["other"].post(f"/ideas/{first}/support",
                              data={"csrf_token": support_token}).status_code == 302
    again = site["other"].post(f"/ideas/{first}/support", data={"csrf_token": support_token})
    assert again.status_code == 409 and "once" in again.text
    assert "You support this idea" in site["other"].get(f"/cycles/test-cycle/ideas/{first}").text
    assert _staff_post(site, second, "merge", into=f"#{first}").status_code == 302
    merged_page = site["other"].get(f"/cycles/test-cycle/ideas/{second}")
    assert f'/cycles/test-cycle/ideas/{first}"' in merged_page.text
    for proposal_id in (first, third):
        for target, extra in (("under_review", {}), ("feasible", {"cost": "30"}),
                              ("accepted", {})):
            assert _staff_post(site, proposal_id, "status", target=target,
                               **extra).status_code == 302
    form = site["staff"].get(f"/staff/cycles/test-cycle/ideas/promote?ideas={first}"
                             f"&ideas={third}")
    assert form.status_code == 200 and 'value="60"' in form.text  # costs added up
    response = site["staff"].post("/staff/cycles/test-cycle/ideas/promote", data={
        "csrf_token": token(site["staff"], "/staff/cycles/test-cycle/ideas/promote"),
        "ideas": [str(first), str(third)], "code": "AP-LIGHT", "title": "Underpass lighting",
        "cost": "60", "district": "approval", "category": "Street lighting"})
    assert response.status_code == 302, response.text[:3000]
    cycle_page = site["other"].get("/cycles/test-cycle")
    assert "Underpass lighting" in cycle_page.text
    assert re.search(rf'from ideas <a href="/cycles/test-cycle/ideas/{first}">#{first}</a> and '
                     rf'<a href="/cycles/test-cycle/ideas/{third}">#{third}</a>',
                     cycle_page.text), cycle_page.text
    assert "AP-LIGHT" in site["resident"].get(f"/my/ideas/{first}").text


def test_hidden_ideas_leave_the_board_and_their_author_is_told_why(site):
    proposal_id = _sent_id(_send(site["resident"]))
    assert _staff_post(site, proposal_id, "hide", reason="Names a private person").status_code \
        == 302
    assert site["other"].get(f"/cycles/test-cycle/ideas/{proposal_id}").status_code == 404
    assert "Light the underpass" not in site["other"].get("/cycles/test-cycle/ideas").text
    page = site["resident"].get(f"/my/ideas/{proposal_id}")
    assert "Names a private person" in page.text
    outbox = site["other"].get("/dev/outbox")
    assert "Names a private person" in outbox.text
    assert _staff_post(site, proposal_id, "unhide").status_code == 302
    assert site["other"].get(f"/cycles/test-cycle/ideas/{proposal_id}").status_code == 200


def test_a_hidden_ideas_photo_is_gone_from_every_address_but_for_staff_and_author(site):
    import io
    import shutil

    from pbvote.services import images

    proposal_id = _sent_id(_send(site["resident"], photo=(io.BytesIO(png_bytes()), "me.png")))
    with site["app"].app_context():
        name = db.session.get(Proposal, proposal_id).photo_name
    addresses = (f"/ideas/{proposal_id}/photo", f"/media/projects/{name}")
    anonymous = site["app"].test_client()
    for path in addresses:
        assert anonymous.get(path).status_code == 200, path
    assert _staff_post(site, proposal_id, "hide", reason="Shows a face").status_code == 302
    for path in addresses:
        assert anonymous.get(path).status_code == 404, path
        assert site["other"].get(path).status_code == 404, path
        assert site["staff"].get(path).status_code == 200, path
        assert site["resident"].get(path).status_code == 200, path  # the author
        assert site["staff"].get(path).headers["Cache-Control"] == "no-store"

    with site["app"].app_context():  # a file no project or idea owns is not served either
        folder = images.image_folder()
        shutil.copy(folder / name, folder / ("0" * 32 + ".png"))
    assert site["staff"].get(f"/media/projects/{'0' * 32}.png").status_code == 404


def test_board_search_filter_sort_and_injection_strings(site):
    lamps = _sent_id(_send(site["resident"], title="Lamps on Elm"))
    park = _sent_id(_send(site["other"], title="Benches in the park", district="knapsack",
                          category="Parks and public space"))
    client = site["other"]

    def shown(**query):
        page = client.get("/cycles/test-cycle/ideas", query_string=query)
        assert page.status_code == 200
        return [int(n) for n in re.findall(r'/cycles/test-cycle/ideas/(\d+)"', page.text)]

    assert shown() == [park, lamps]
    assert shown(q="elm") == [lamps]
    assert shown(category="Parks and public space") == [park]
    assert shown(district="approval") == [lamps]
    assert shown(status="accepted") == []
    support = token(client, f"/cycles/test-cycle/ideas/{lamps}")
    client.post(f"/ideas/{lamps}/support", data={"csrf_token": support})
    assert shown(sort="most_supported") == [lamps, park]
    for attack in ("' OR 1=1 --", "'; DROP TABLE proposal; --", "%", "_", "\\",
                   "1' UNION SELECT email FROM account --", "x\" OR \"1\"=\"1"):
        assert shown(q=attack) == [], attack
    assert shown(sort="id; DROP TABLE proposal", page="-1") == [park, lamps]
    assert len(shown()) == 2


def test_xss_payloads_are_inert_on_every_page(site):
    script, img = XSS
    app = site["app"]
    settings_token = token(site["staff"], "/staff/cycles/test-cycle/ideas/settings")
    assert site["staff"].post("/staff/cycles/test-cycle/ideas/settings", data={
        "csrf_token": settings_token, "categories": f"Street lighting\n{img}",
        "max_per_person": ""}).status_code == 200
    first = _sent_id(_send(site["resident"], title=script, description=f"{img}\n{script}",
                           location=img, category=img))
    second = _sent_id(_send(site["resident"], title=img, description=script, location=script))
    _staff_post(site, first, "status", target="under_review")
    _staff_post(site, first, "status", target="needs_information", question=script)
    site["resident"].post(f"/my/ideas/{first}/answer", data={
        "csrf_token": token(site["resident"], f"/my/ideas/{first}"), "answer": img})
    _staff_post(site, first, "status", target="not_feasible", reason=img)
    _staff_post(site, second, "hide", reason=script)
    _staff_post(site, second, "unhide", reason=img)
    _staff_post(site, second, "merge", into=str(first), reason=script)
    # a project made from an accepted idea whose texts are payloads
    third = _sent_id(_send(site["other"], title=script))
    for target, extra in (("under_review", {}), ("feasible", {"cost": "10", "reason": script}),
                          ("accepted", {})):
        _staff_post(site, third, "status", target=target, **extra)
    response = site["staff"].post("/staff/cycles/test-cycle/ideas/promote", data={
        "csrf_token": token(site["staff"], "/staff/cycles/test-cycle/ideas/promote"),
        "ideas": [str(third)], "code": "AP-X", "title": img, "summary": script, "cost": "10",
        "district": "approval", "location": img, "description": script})
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Proposal, first)
        assert stored.title == script  # stored as typed; escaping happens on output
    pages = [
        (site["other"], "/cycles/test-cycle/ideas"),
        (site["other"], "/cycles/test-cycle/ideas?status=merged"),
        (site["other"], f"/cycles/test-cycle/ideas/{first}"),
        (site["other"], f"/cycles/test-cycle/ideas/{second}"),
        (site["other"], f"/cycles/test-cycle/ideas/{third}"),
        (site["other"], f"/cycles/test-cycle/ideas?q={img}"),
        (site["other"], "/cycles/test-cycle"),
        (site["other"], "/dev/outbox"),
        (site["resident"], "/my/ideas"),
        (site["resident"], f"/my/ideas/{first}"),
        (site["resident"], f"/my/ideas/{second}"),
        (site["staff"], "/staff/cycles/test-cycle/ideas?status=all"),
        (site["staff"], "/staff/cycles/test-cycle/ideas?status=merged"),
        (site["staff"], f"/staff/ideas/{first}"),
        (site["staff"], f"/staff/ideas/{second}"),
        (site["staff"], f"/staff/ideas/{third}"),
        (site["staff"], "/staff/cycles/test-cycle/ideas/settings"),
    ]
    escaped = ("&lt;script&gt;alert(1)&lt;/script&gt;",
               "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;")
    for client, path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        assert script not in page.text and img not in page.text, path
        assert "<img src=x" not in page.text and "<script>alert" not in page.text, path
        assert any(e in page.text for e in escaped), f"{path} does not show the payload at all"
    shown = site["resident"].get(f"/my/ideas/{first}").text
    for payload in escaped:
        assert shown.count(payload) >= 2  # title, description, question, answer, reason...
    with app.app_context():
        assert proposals.get_proposal(first).status == "not_feasible"


def test_the_staff_queue_filters_and_shows_hidden_ideas(site):
    lamps = _sent_id(_send(site["resident"], title="Lamps on Elm"))
    park = _sent_id(_send(site["other"], title="Benches in the park", district="knapsack",
                          category="Parks and public space"))
    _staff_post(site, park, "hide", reason="Spam")

    def queued(**query):
        page = site["staff"].get("/staff/cycles/test-cycle/ideas", query_string=query)
        assert page.status_code == 200
        return [int(n) for n in re.findall(r'/staff/ideas/(\d+)"', page.text)]

    assert queued() == [park, lamps]  # staff see hidden ideas too
    assert queued(district="knapsack") == [park]
    assert queued(category="Street lighting") == [lamps]
    assert queued(q="bench") == [park]
    assert queued(status="accepted") == []
    assert "ada@example.org" in site["staff"].get(f"/staff/ideas/{lamps}").text
