"""The delivery pages over HTTP: the public "What we funded" pages in three languages,
an editor's changes and refusals, the CSV preview, the survey and following a project."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, FollowSubscription, OutboxMessage
from pbvote.services.delivery import records, survey
from tests.conftest import csrf_token
from tests.delivery_helpers import funded_codes, published_cycle
from tests.staff_helpers import login, make_account, sign_in_resident


@pytest.fixture
def setup(app):
    with app.app_context(), write_intent():
        cycle = published_cycle()
        admin = make_account("admin")
        editor = make_account("staff")
        auditor = make_account("auditor")
        resident = make_account("resident")
        records.grant_editor(cycle, db.session.get(Account, admin[0]), editor[1])
        records.open_delivery(cycle, db.session.get(Account, editor[0]))
        round_ = survey.open_round(cycle, db.session.get(Account, editor[0]),
                                   cycle.districts[0].slug, "Baseline")
        code = funded_codes(cycle)[0]
        db.session.commit()
        return {"slug": cycle.slug, "code": code, "admin": admin, "editor": editor,
                "auditor": auditor, "resident": resident, "round": round_.id}


def _signed_in(app, account):
    client = app.test_client()
    login(client, *account[1:])
    return client


def _post(client, path, data=None, files=None):
    page = client.get(path.rsplit("/", 1)[0] if "/projects/" in path else path)
    token = csrf_token(page.text) if page.status_code == 200 else csrf_token(
        client.get("/staff/reauth").text)
    payload = {"csrf_token": token, **(data or {})}
    if files:
        payload.update(files)
    return client.post(path, data=payload, content_type="multipart/form-data")


def _chain_length(app, slug) -> int:
    with app.app_context():
        cycle = db.session.scalar(select(Cycle).where(Cycle.slug == slug))
        return records.delivery_chain(cycle).length


@pytest.mark.parametrize("lang,words", [("en", "What we funded"), ("es", "Qué financiamos"),
                                        ("zh_Hans", "我们资助了什么")])
def test_the_public_pages_in_three_languages(app, setup, lang, words):
    client = app.test_client()
    client.get(f"/language?lang={lang}&next=/")
    slug, code = setup["slug"], setup["code"]
    for path in ("", f"/cycles/{slug}", f"/cycles/{slug}/results"):
        page = client.get(path or "/")
        assert page.status_code == 200
        assert f"/cycles/{slug}/delivery" in page.text
    index = client.get(f"/cycles/{slug}/delivery")
    assert index.status_code == 200 and words in index.text
    assert "<progress" in index.text and "<script" not in index.text
    assert f"/cycles/{slug}/delivery/projects/{code}" in client.get(f"/cycles/{slug}").text
    project = client.get(f"/cycles/{slug}/delivery/projects/{code}")
    assert project.status_code == 200 and 'role="img"' in project.text
    district = client.get(f"/cycles/{slug}/delivery/districts/approval")
    assert district.status_code == 200
    assert client.get(f"/cycles/{slug}/delivery/districts/nowhere").status_code == 404
    assert client.get(f"/cycles/{slug}/delivery/projects/NOPE").status_code == 404
    data = client.get(f"/api/v1/cycles/{slug}/delivery.json")
    assert data.status_code == 200 and data.json["projects"]
    assert data.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(f"/api/v1/cycles/{slug}/delivery.csv").text.startswith("district,project")
    assert client.get(f"/cycles/{slug}/delivery/bundle.zip").status_code == 200


def test_an_editor_records_changes_and_bad_input_gets_422_with_nothing_stored(app, setup):
    editor = _signed_in(app, setup["editor"])
    slug, code = setup["slug"], setup["code"]
    base = f"/staff/cycles/{slug}/delivery/projects/{code}"
    assert editor.get(base).status_code == 200
    before = _chain_length(app, slug)
    for action, data in [("status", {"status": "delivered"}),
                         ("status", {"status": "cancelled", "reason": ""}),
                         ("progress", {"percent": "140"}),
                         ("money", {"committed": "-4", "spent": "0"}),
                         ("money", {"committed": "1", "spent": "999999999"}),
                         ("milestone", {"title": "Design", "planned": "2027-02-30"}),
                         ("update", {"text": ""})]:
        response = _post(editor, f"{base}/{action}", data)
        assert response.status_code == 422, (action, data, response.status_code)
        assert "error-summary" in response.text
    assert _chain_length(app, slug) == before
    assert _post(editor, f"{base}/status", {"status": "in_progress"}).status_code == 303
    photo = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 120, 0)).save(photo, "PNG")
    photo.seek(0)
    done = _post(editor, f"{base}/update", {"text": "Lamps arrived"},
                 {"photo": (photo, "lamps.png")})
    assert done.status_code == 303
    page = app.test_client().get(f"/cycles/{slug}/delivery/projects/{code}")
    assert "Lamps arrived" in page.text
    photo_url = re.search(r'src="(/cycles/[^"]+/photos/[0-9a-f]+\.png)"', page.text).group(1)
    assert app.test_client().get(photo_url).status_code == 200
    assert _chain_length(app, slug) == before + 2


def test_an_oversized_or_broken_photo_is_refused(app, setup):
    editor = _signed_in(app, setup["editor"])
    base = f"/staff/cycles/{setup['slug']}/delivery/projects/{setup['code']}"
    before = _chain_length(app, setup["slug"])
    broken = _post(editor, f"{base}/update", {"text": "x"},
                   {"photo": (io.BytesIO(b"not an image"), "x.jpg")})
    assert broken.status_code == 415
    big = _post(editor, f"{base}/update", {"text": "x"},
                {"photo": (io.BytesIO(b"\xff" * (5 * 1024 * 1024 + 10)), "big.jpg")})
    assert big.status_code == 413
    assert _chain_length(app, setup["slug"]) == before


def test_auditors_and_other_staff_read_but_cannot_record(app, setup):
    base = f"/staff/cycles/{setup['slug']}/delivery"
    for who in ("auditor",):
        client = _signed_in(app, setup[who])
        assert client.get(base).status_code == 200
        assert client.get(f"{base}/projects/{setup['code']}").status_code == 200
        assert _post(client, f"{base}/projects/{setup['code']}/progress",
                     {"percent": "5"}).status_code == 403
    other = _signed_in(app, make_account_in(app, "staff"))
    assert _post(other, f"{base}/projects/{setup['code']}/progress",
                 {"percent": "5"}).status_code == 403


def make_account_in(app, role):
    with app.app_context():
        return make_account(role)


def test_csv_preview_lists_errors_by_line_and_stores_nothing(app, setup):
    editor = _signed_in(app, setup["editor"])
    slug = setup["slug"]
    assert _post(editor, f"/staff/cycles/{slug}/delivery/projects/{setup['code']}/indicator", {
        "name": "Incidents", "unit": "per quarter", "area": "Main St", "source": "police",
        "baseline_period": "2026-Q1", "baseline_value": "20",
        "followup_periods": "2026-Q4"}).status_code == 303
    with app.app_context():
        cycle = db.session.scalar(select(Cycle).where(Cycle.slug == slug))
        key = next(iter(records.require_state(cycle)["indicators"]))
    before = _chain_length(app, slug)
    bad = f"indicator,period,value,source\n{key},2026-Q4,-1,police\nnope,2026-Q4,1,x\n"
    response = _post(editor, f"/staff/cycles/{slug}/delivery/values", files={
        "file": (io.BytesIO(bad.encode()), "values.csv")})
    assert response.status_code == 422
    assert "Line 2" in response.text and "Line 3" in response.text
    good = f"indicator,period,value,source\n{key},2026-Q4,14,police\n"
    preview = _post(editor, f"/staff/cycles/{slug}/delivery/values", files={
        "file": (io.BytesIO(good.encode()), "values.csv")})
    assert preview.status_code == 200 and _chain_length(app, slug) == before
    upload = re.search(r'name="upload" value="([^"]+)"', preview.text).group(1)
    assert _post(editor, f"/staff/cycles/{slug}/delivery/values/confirm",
                 {"upload": upload}).status_code == 303
    assert _chain_length(app, slug) == before + 1


def test_a_resident_answers_once_and_the_second_answer_is_refused(app, setup):
    client = app.test_client()
    sign_in_resident(client, setup["resident"][0])
    path = f"/cycles/{setup['slug']}/delivery/survey/{setup['round']}"
    page = client.get(path)
    assert page.status_code == 200
    token = csrf_token(page.text)
    assert client.post(path, data={"csrf_token": token, "answer": "7"}).status_code == 422
    assert client.post(path, data={"csrf_token": token, "answer": "4"}).status_code == 200
    again = client.post(path, data={"csrf_token": token, "answer": "2"})
    assert again.status_code == 409 and "already answered" in again.text
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302


def test_follow_by_email_confirm_and_unsubscribe_over_http(app, setup):
    client = app.test_client()
    slug, code = setup["slug"], setup["code"]
    page = client.get(f"/cycles/{slug}/delivery/projects/{code}")
    token = csrf_token(page.text)
    bad = client.post(f"/cycles/{slug}/delivery/projects/{code}/follow",
                      data={"csrf_token": token, "email": "nobody"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    sent = client.post(f"/cycles/{slug}/delivery/projects/{code}/follow",
                       data={"csrf_token": token, "email": "fan@example.org"})
    assert sent.status_code == 200 and "Check your email" in sent.text
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body)
                                  .order_by(OutboxMessage.id.desc())).first()
    confirm = re.search(r"token=(\S+)", body).group(1)
    assert client.get(f"/cycles/{slug}/delivery/follow/confirm?token={confirm}").status_code \
        == 200
    with app.app_context():  # a GET changes nothing
        assert db.session.scalar(select(FollowSubscription.status)) == "pending"
    done = client.post(f"/cycles/{slug}/delivery/follow/confirm",
                       data={"csrf_token": token, "token": confirm})
    assert done.status_code == 200
    assert client.post(f"/cycles/{slug}/delivery/follow/confirm",
                       data={"csrf_token": token, "token": confirm}).status_code == 404
    editor = _signed_in(app, setup["editor"])
    _post(editor, f"/staff/cycles/{slug}/delivery/projects/{code}/update", {"text": "News!"})
    with app.app_context():
        last = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert last.recipient == "fan@example.org" and "News!" in last.body
        count = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    stop = re.search(r"/unsubscribe\?token=(\S+)", last.body).group(1)
    assert client.get(f"/cycles/{slug}/delivery/unsubscribe?token={stop}").status_code == 200
    assert client.post(f"/cycles/{slug}/delivery/unsubscribe",
                       data={"csrf_token": token, "token": stop}).status_code == 200
    assert client.get(f"/cycles/{slug}/delivery/unsubscribe?token=nope").status_code == 404
    _post(editor, f"/staff/cycles/{slug}/delivery/projects/{code}/update", {"text": "Again"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == count


def test_admin_grants_an_editor_and_the_editor_runs_a_survey_round_over_http(app, setup):
    admin = _signed_in(app, setup["admin"])
    slug = setup["slug"]
    base = f"/staff/cycles/{slug}/delivery"
    newcomer = make_account_in(app, "staff")
    assert _post(admin, f"{base}/editors", {"email": "nobody@example.org"}).status_code == 422
    assert _post(admin, f"{base}/editors", {"email": newcomer[1]}).status_code == 303
    assert newcomer[1] in admin.get(base).text
    editor = _signed_in(app, newcomer)
    assert _post(editor, f"{base}/surveys", {"district": "approval", "label": ""}).status_code \
        == 422
    assert _post(editor, f"{base}/surveys", {"district": "knapsack",
                                             "label": "Spring"}).status_code == 303
    with app.app_context():
        cycle = db.session.scalar(select(Cycle).where(Cycle.slug == slug))
        round_ = next(r for r in survey.list_rounds(cycle) if r.label == "Spring")
        resident = db.session.get(Account, setup["resident"][0])
        with write_intent():
            survey.answer(cycle, round_.id, resident, "3", "Needs more lights")
            db.session.commit()
        pending = survey.pending_comments(cycle)[0][0].id
    assert "Needs more lights" in editor.get(base).text  # staff see it before moderation
    public = app.test_client().get(f"/cycles/{slug}/delivery")
    assert "Needs more lights" not in public.text
    assert _post(editor, f"{base}/comments/{pending}", {"decision": "publish"}).status_code == 303
    assert _post(editor, f"{base}/comments/{pending}", {"decision": "publish"}).status_code == 409
    assert _post(editor, f"{base}/surveys/{round_.id}/close",
                 {"confirm": "y"}).status_code == 303
    page = app.test_client().get(f"/cycles/{slug}/delivery").text
    assert "Only 1 resident answered" in page and "Needs more lights" not in page


def test_delivery_charts_have_the_phone_drawing(app, setup):
    """Like the results charts, each delivery chart comes with a 340-unit phone drawing, so
    its text is about 14 px at 375 px (the 420-unit drawing alone gave about 11 px)."""
    client = app.test_client()
    slug, code = setup["slug"], setup["code"]
    for path in (f"/cycles/{slug}/delivery/projects/{code}", f"/cycles/{slug}/delivery"):
        page = client.get(path).text
        wide = re.findall(r'<svg [^>]*class="chart chart-wide"[^>]*viewBox="0 0 (\d+) ', page)
        narrow = re.findall(r'<svg [^>]*class="chart chart-narrow"[^>]*viewBox="0 0 (\d+) ',
                            page)
        assert len(narrow) == len(wide) and {int(w) for w in narrow} <= {340}
        assert not re.findall(r'<svg [^>]*class="chart"', page)  # no chart without a twin
    page = client.get(f"/cycles/{slug}/delivery/projects/{code}").text
    assert {int(w) for w in re.findall(r'class="chart chart-wide"[^>]*viewBox="0 0 (\d+) ',
                                       page)} == {420}


def test_the_public_pages_show_the_translated_title(app, setup):
    """The record keeps the title as funded; a Spanish reader sees the city's translation."""
    from pbvote.models import Project
    from pbvote.services.translations import save_translations

    slug, code = setup["slug"], setup["code"]
    with app.app_context(), write_intent():
        project = db.session.scalar(select(Project).join(Cycle).where(
            Cycle.slug == slug, Project.code == code))
        original = project.title
        save_translations(project, {("es", "title"): "Título traducido"}, "staff")
        db.session.commit()
    client = app.test_client()
    client.get("/language?lang=es&next=/")
    index = client.get(f"/cycles/{slug}/delivery").text
    assert f'projects/{code}">Título traducido</a>' in index
    page = client.get(f"/cycles/{slug}/delivery/projects/{code}").text
    assert "<h1>Título traducido</h1>" in page and f"<h1>{original}</h1>" not in page


def test_a_record_altered_in_the_database_gives_a_409_page_and_fails_verify_now(app, setup):
    """Issue 16: a delivery entry changed outside pbvote used to be shown as if true (or a
    500). Now every delivery page answers 409 saying so, the cycle page stays up, and the
    auditor's "Verify now" has a failing "Delivery bundle" section naming the check."""
    import json

    from sqlalchemy import update

    from pbvote.audit.chain import canonical_json
    from pbvote.models import LogEntry

    slug, code = setup["slug"], setup["code"]
    auditor = _signed_in(app, setup["auditor"])
    page = auditor.get(f"/audit/cycles/{slug}")
    clean = auditor.post(f"/audit/cycles/{slug}/verify", data={"csrf_token": csrf_token(page.text)})
    assert "Delivery bundle" in clean.text
    assert "Every check passed for the delivery bundle" in clean.text
    with app.app_context(), write_intent():
        cycle = db.session.scalar(select(Cycle).where(Cycle.slug == slug))
        chain = records.delivery_chain(cycle)
        row = db.session.scalar(select(LogEntry).where(LogEntry.chain_id == chain.id,
                                                       LogEntry.position == 1))
        entry = json.loads(row.entry_json)
        entry["data"]["funded"][0]["cost"] += 1
        db.session.execute(update(LogEntry).where(LogEntry.id == row.id).values(
            entry_json=canonical_json(entry)))
        db.session.commit()
    client = app.test_client()
    for path in (f"/cycles/{slug}/delivery", f"/cycles/{slug}/delivery/projects/{code}",
                 f"/cycles/{slug}/delivery/bundle.zip", f"/api/v1/cycles/{slug}/delivery.json"):
        refused = client.get(path)
        assert refused.status_code == 409, path
        assert "was changed outside pbvote" in refused.text, path
        assert "delivery-chain: entry 1: hash mismatch" in refused.text, path
    editor = _signed_in(app, setup["editor"])
    assert editor.get(f"/staff/cycles/{slug}/delivery").status_code == 409
    assert client.get(f"/cycles/{slug}").status_code == 200
    report = auditor.post(f"/audit/cycles/{slug}/verify",
                          data={"csrf_token": csrf_token(page.text)})
    assert report.status_code == 200
    section = report.text.split('id="delivery-verify"')[1]
    assert "Verification failed at check “delivery-chain”" in section
    assert "entry 1: hash mismatch" in section
