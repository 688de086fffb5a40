"""Characters no stored text may hold.

Control characters (NUL and the other C0/C1 codes, DEL) break storage (PostgreSQL refuses
NUL in text), logs and CSV exports; bidirectional embedding, override and isolate controls
(U+202A to U+202E, U+2066 to U+2069) make text display in another order than it is stored,
which lets a name or a project title pass for another. Tab, line feed and carriage return
stay allowed: multi-line texts need them, and forms cannot tell which field is which.
Ordinary format characters (zero-width joiner, left-to-right and right-to-left marks) are
part of how many scripts are written and stay allowed too.
"""
from __future__ import annotations

import re

from pbvote.i18n_hook import _

ALLOWED_CONTROLS = "\t\n\r"
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                        "\ufffe\uffff]")


_FORBIDDEN_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                                "\ufffe\uffff]")


def forbidden_character(text: str) -> str | None:
    """The first character of ``text`` that no stored text may hold, or None."""
    found = _FORBIDDEN.search(text)
    return found.group() if found else None


def forbidden_in_line(text: str) -> str | None:
    """As forbidden_character, for one-line values (names, postcodes, email addresses),
    which hold no tab or line break either."""
    found = _FORBIDDEN_IN_LINE.search(text)
    return found.group() if found else None


def describe(character: str) -> str:
    """U+0000 and the like, for messages."""
    return f"U+{ord(character):04X}"


def forbidden_character_message(character: str) -> str:
    return _("This contains an invisible control character (%(code)s), which is not allowed. "
             "Retype the text or paste it as plain text.", code=describe(character))
