"""Staff notes that explain a reconciliation imbalance: logged to the cycle's chain (which
is where they are read back from) and published in the bundle."""
from __future__ import annotations

from pbvote.i18n_hook import _
from pbvote.models import Cycle
from pbvote.rules.ballots import Reason
from pbvote.services import log
from pbvote.services.errors import DomainError
from pbvote.services.transitions.snapshot import NOTE_KIND, chain_records, imbalances

NOTE_MAX_LENGTH = 2000


def notes(cycle: Cycle) -> list[dict]:
    """{"site", "district", "imbalance", "note", "actor", "at"} in the order written."""
    return chain_records(cycle, NOTE_KIND)


def explain_imbalance(cycle: Cycle, site: str, district_slug: str, note: str,
                      actor: str) -> dict:
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Write what caused the difference; the note is published."), 422,
                          [Reason("note", "note_missing", _("Write the note."))])
    if len(note) > NOTE_MAX_LENGTH:
        raise DomainError(_("The note is too long (at most %(number)s characters).",
                            number=NOTE_MAX_LENGTH), 422,
                          [Reason("note", "note_too_long", _("The note is too long."))])
    current = next((i for i in imbalances(cycle)
                    if i.site == site and i.district_slug == district_slug), None)
    if current is None:
        raise DomainError(_("There is no difference to explain for this site and district."),
                          409)
    entry = {"cycle": cycle.slug, "site": site, "district": district_slug,
             "imbalance": current.message, "note": note}
    log.record_action(cycle.chain_id, NOTE_KIND, actor, entry)
    return entry
