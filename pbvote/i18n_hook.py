"""Translation hook for the pure modules, which must not import Flask.

Pure rules mark their user-facing text with ``_("… %(name)s …", name=value)``; the app
installs Flask-Babel's gettext at start-up, so the same call returns the resident's language
in a request and plain English elsewhere (CLI, verifier, unit tests). ``N_`` marks text that is
stored or built at import time and translated later with ``translate``. Numbers go through
``format_number`` so that "400,000" becomes "400.000" in Spanish.
"""
from __future__ import annotations

from collections.abc import Callable

_hooks: dict[str, Callable | None] = {"gettext": None, "ngettext": None, "number": None,
                                      "ordinal": None, "decimal_symbol": None, "money": None}


def install(gettext: Callable[[str], str] | None,
            ngettext: Callable[[str, str, int], str] | None = None,
            number: Callable[[int], str] | None = None,
            ordinal: Callable[[int], str | None] | None = None,
            decimal_symbol: Callable[[], str | None] | None = None,
            money: Callable[[int, str], str | None] | None = None) -> None:
    """Route later calls through the app's translator (None restores plain English)."""
    _hooks.update(gettext=gettext, ngettext=ngettext, number=number, ordinal=ordinal,
                  decimal_symbol=decimal_symbol, money=money)


def _call(name: str, *args):
    hook = _hooks[name]
    if hook is None:
        return None
    try:
        return hook(*args)
    except RuntimeError:  # no app or request context: plain English
        return None


def translate(text: str) -> str:
    translated = _call("gettext", text)
    return text if translated is None else translated


def _(text: str, /, **params: object) -> str:
    translated = translate(text)
    return translated % params if params else translated


def n_(singular: str, plural: str, count: int, /, **params: object) -> str:
    """Plural-aware text; ``%(num)s`` is the count, formatted for the locale."""
    translated = _call("ngettext", singular, plural, count)
    if translated is None:
        translated = singular if count == 1 else plural
    return translated % {"num": format_number(count), **params}


def format_number(value: int) -> str:
    formatted = _call("number", value)
    return f"{value:,}" if formatted is None else formatted


def format_currency(amount: int, currency: str) -> str:
    """Whole units of an ISO 4217 currency ("USD") in the reader's pattern ("$400,000",
    "400.000 US$"); outside the app the code follows the grouped number ("400,000 USD")."""
    formatted = _call("money", amount, currency)
    if formatted is not None:
        return formatted
    sign = "-" if amount < 0 else ""
    return f"{sign}{format_number(abs(amount))} {currency}"


def decimal_symbol() -> str:
    """The reader's decimal separator ("," in Spanish), "." otherwise."""
    symbol = _call("decimal_symbol")
    return "." if symbol is None else symbol


def format_fixed(text: str) -> str:
    """A decimal as the engine writes it ("12.5", "-0.25") with the reader's separator;
    digits are not grouped, so exact values read the same in every language."""
    return text.replace(".", decimal_symbol()) if "." in text else text


def ordinal_text(n: int, english: str) -> str:
    """An ordinal number in the reader's language ("1.º", "第1"); `english` ("1st") otherwise."""
    formatted = _call("ordinal", n)
    return english if formatted is None else formatted


def N_(text: str) -> str:
    """Mark text for extraction only; translate it when it is shown."""
    return text
