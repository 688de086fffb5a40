"""Comments as plain text: what is kept of what was typed, and the limits. Pure."""
from __future__ import annotations

import re
import unicodedata

from pbvote.i18n_hook import _
from pbvote.rules.ballots import Reason

COMMENT_MAX = 2000
COMMENT_MIN = 2
REASON_MAX = 300
#: comments one account may post in RATE_WINDOW_MINUTES
RATE_LIMIT = 5
RATE_WINDOW_MINUTES = 10

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_comment(text: str | None) -> str:
    """Plain text: line breaks kept (at most two in a row), control and direction-override
    characters removed, NFC. Markup is kept as typed and shown escaped, never run."""
    text = unicodedata.normalize("NFC", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def comment_problems(body: str) -> list[Reason]:
    if len(body) < COMMENT_MIN:
        return [Reason("body", "comment_empty", _("Write a comment first."))]
    if len(body) > COMMENT_MAX:
        return [Reason("body", "comment_too_long",
                       _("A comment may be at most %(most)s characters; this one has "
                         "%(count)s.", most=COMMENT_MAX, count=len(body)))]
    return []


def clean_reason(text: str | None) -> str:
    return " ".join(_CONTROL.sub("", text or "").split())[:REASON_MAX]
