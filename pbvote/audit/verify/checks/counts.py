"""counts: per district, ballots = receipts = participations (less the desk check-ins that
cast nothing, from paper_audit.json), and both as results.json counted them."""
from __future__ import annotations

from pbvote.audit.verify.checks import State, nonzero
from pbvote.audit.verify.layout import (
    PAPER_AUDIT_FILE,
    PARTICIPATION_FILE,
    RECEIPTS_FILE,
    RESULTS_FILE,
)
from pbvote.audit.verify.reading import parse_receipts, read_json, read_text
from pbvote.audit.verify.report import CheckFailed


def check_counts(state: State) -> str:
    state.receipts = parse_receipts(read_text(state.files, RECEIPTS_FILE))
    unknown = sorted(set(state.receipts) - set(state.districts))
    if unknown:
        raise CheckFailed(f"{RECEIPTS_FILE} has receipts for unknown districts {unknown}")
    for slug, codes in state.receipts.items():
        if len(set(codes)) != len(codes):
            raise CheckFailed(f"{RECEIPTS_FILE}, district {slug}: a receipt appears twice")
    participation = read_json(state.files, PARTICIPATION_FILE)["districts"]
    state.participation = {slug: {ch: int(n) for ch, n in participation.get(slug, {}).items()}
                          for slug in state.districts}
    unknown = sorted(set(participation) - set(state.districts))
    if unknown:
        raise CheckFailed(f"{PARTICIPATION_FILE} has unknown districts {unknown}")
    state.not_cast = _not_cast(state)
    parts = []
    for slug in state.districts:
        ballots = state.ballots[slug].total
        receipts = len(state.receipts.get(slug, []))
        voted = sum(state.participation[slug].values())
        not_cast = state.not_cast.get(slug, 0)
        if not ballots == receipts == voted - not_cast:
            without = (f", of which {not_cast} checked in without casting "
                       f"({PAPER_AUDIT_FILE})" if not_cast else "")
            raise CheckFailed(f"district {slug}: {ballots} ballots, {receipts} receipts, "
                              f"{voted} participations{without} (ballots, receipts and "
                              f"participations that led to a ballot must be equal)")
        entry = state.results_by_district[slug]
        if entry["ballots"] != ballots:
            raise CheckFailed(f"district {slug}: {ballots} ballots published, but "
                              f"{RESULTS_FILE} counted {entry['ballots']}")
        counted = nonzero(entry["participations"]["by_channel"])
        if counted != nonzero(state.participation[slug]):
            raise CheckFailed(f"district {slug}: participations by channel "
                              f"{nonzero(state.participation[slug])} differ from the "
                              f"{counted} that {RESULTS_FILE} counted")
        parts.append(f"{slug} {ballots}")
    if any(state.not_cast.values()):
        parts.append(f"check-ins without a ballot {nonzero(state.not_cast)}")
    return "ballots = receipts = participations: " + ", ".join(parts)

def _not_cast(state: State) -> dict[str, int]:
    """Desk check-ins that led to no counted ballot, per district (none without the file)."""
    if PAPER_AUDIT_FILE not in state.files:
        return {}
    districts = read_json(state.files, PAPER_AUDIT_FILE)["districts"]
    not_cast = {}
    for slug, counts in districts.items():
        if slug not in state.districts:
            raise CheckFailed(f"{PAPER_AUDIT_FILE} has unknown district {slug!r}")
        number = counts["not_cast"]
        desk = state.participation[slug].get("desk", 0)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= desk:
            raise CheckFailed(f"{PAPER_AUDIT_FILE}, district {slug}: not_cast {number!r} "
                              f"must be a whole number from 0 to the {desk} desk check-ins")
        not_cast[slug] = number
    return not_cast
