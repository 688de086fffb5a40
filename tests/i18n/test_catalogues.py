"""Catalogues: up to date with the code, Spanish complete, Chinese complete for residents,
compiled files matching their sources, and no visible template text outside _()."""
from __future__ import annotations

import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.i18n.catalogues import (
    PLACEHOLDER,
    ROOT,
    TRANSLATIONS,
    extract,
    load_po,
    message_key,
    resident_config,
)

LOCALES = ["es", "zh_Hans"]


def _strings(string) -> tuple:
    return tuple(string) if isinstance(string, (tuple, list)) else (string,)


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and "fuzzy" not in message.flags


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    return extract(tmp_path_factory.mktemp("pot"), ROOT / "babel.cfg")


def test_messages_pot_is_up_to_date(extracted):
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        from babel.messages.pofile import read_po

        committed = {message_key(m.id) for m in read_po(handle) if m.id}
    assert sorted(extracted - committed) == [], "run pybabel extract (README, Languages)"
    assert sorted(committed - extracted) == [], "stale ids: run pybabel extract"


@pytest.mark.parametrize("locale", LOCALES)
def test_po_files_hold_every_message(extracted, locale):
    ids = {message_key(m.id) for m in load_po(locale) if m.id}
    assert sorted(extracted - ids) == [], f"run pybabel update for {locale}"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_its_source(locale):
    """What the app reads (the .mo) answers exactly what the .po says, message by message."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for message in load_po(locale):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not _translated(message):
                continue  # compile pads English forms to the locale's plural count
            for count, expected in _plural_samples(message, locale):
                if compiled.ngettext(*message.id, count) != expected:
                    stale.append(message.id)
        else:
            expected = message.string if _translated(message) else message.id
            if compiled.gettext(message.id) != expected:
                stale.append(message.id)
    assert stale == [], f"run pybabel compile -d pbvote/translations ({locale})"


def _plural_samples(message, locale):
    """(count, expected text) for counts 1 and 2 under the catalogue's plural rule."""
    forms = _strings(message.string)
    plural_of = load_po(locale).plural_expr
    for count in (1, 2):
        yield count, forms[_plural_index(plural_of, count)]


def _plural_index(expression: str, count: int) -> int:
    return gettext.c2py(expression)(count)


def test_spanish_is_complete():
    missing = [message_key(m.id) for m in load_po("es") if m.id and not _translated(m)]
    assert missing == []


def test_chinese_is_complete_for_the_resident_path(tmp_path):
    resident_ids = extract(tmp_path, resident_config(tmp_path))
    assert len(resident_ids) > 250  # the resident path really was extracted
    translated = {message_key(m.id) for m in load_po("zh_Hans") if m.id and _translated(m)}
    assert sorted(resident_ids - translated) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_their_placeholders(locale):
    broken = []
    for message in load_po(locale):
        if not message.id or not _translated(message):
            continue
        originals = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        allowed = set().union(*(PLACEHOLDER.findall(o) for o in originals))
        for text in strings:
            if not set(PLACEHOLDER.findall(text)) <= allowed:
                broken.append((message.id, text))
            # every placeholder of a singular message must survive translation
            if not isinstance(message.id, tuple) and \
                    sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(message.id)):
                broken.append((message.id, text))
    assert broken == []


# --- no untranslated text in templates -------------------------------------------------------

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
#: Text that is the same in every language.
ALLOWED_TEXT = {"pbvote"}
TRANSLATED_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "value"}


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        kind = dict(attrs).get("type")
        for name, value in attrs:
            if name == "value" and (tag != "input" or kind not in ("submit", "button")):
                continue
            if name in TRANSLATED_ATTRIBUTES and value and re.search(r"[^\W\d_]", value):
                self.found.append(f"{name}={value!r}")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        text = data.strip()
        if not self._hidden and re.search(r"[^\W\d_]", text) and text not in ALLOWED_TEXT:
            self.found.append(text)


def untranslated_text(source: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(JINJA.sub(" ", source))
    return parser.found


def test_the_scanner_finds_bare_text():
    assert untranslated_text('<p>{{ _("Fine") }}</p><p>Oops</p>') == ["Oops"]
    assert untranslated_text('<a aria-label="Menu" href="{{ x }}">{{ _("Go") }}</a>') == \
        ["aria-label='Menu'"]
    assert untranslated_text('<p>{{ n }} · {% if a %}—{% endif %}</p>') == []


@pytest.mark.parametrize("template", sorted(p.relative_to(ROOT).as_posix()
                                            for p in (ROOT / "templates").rglob("*.html")))
def test_template_has_no_untranslated_text(template):
    assert untranslated_text((ROOT / template).read_text(encoding="utf-8")) == []


def test_every_template_was_scanned():
    assert len(list(Path(ROOT / "templates").rglob("*.html"))) > 40
