"""WTForms' own messages follow the reader's language, from a catalogue loaded once per
process (pbvote.web.i18n), and two readers in one process each get their own."""
from __future__ import annotations

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.web.i18n import LANGUAGE_COOKIE
from tests.conftest import csrf_token
from tests.factories import make_cycle

MESSAGES = {"en": "This field is required.", "es": "Este campo es obligatorio.",
            "zh_Hans": "该字段是必填字段。"}
#: the page's own summary above those messages
SUMMARIES = {"en": "Please correct the fields marked below.",
             "es": "Corrija los campos marcados abajo.", "zh_Hans": "请更正下面标出的字段。"}


def test_a_missing_field_is_reported_in_each_readers_language(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    url = f"/cycles/{made.slug}/vote/approval/verify"
    for _round in range(2):  # the second round reads the cached catalogues
        for locale, message in MESSAGES.items():
            client = app.test_client()
            client.set_cookie(LANGUAGE_COOKIE, locale)
            page = client.get(url).text
            response = client.post(url, data={
                "method": "roll", "roll-csrf_token": csrf_token(page), "roll-last_name": "",
                "roll-birth_date": "1980-01-01", "roll-postcode_or_roll": "10001"})
            assert response.status_code == 422
            assert message in response.text
            assert SUMMARIES[locale] in response.text
            others = [m for code, m in MESSAGES.items() if code != locale]
            assert not any(other in response.text for other in others)
