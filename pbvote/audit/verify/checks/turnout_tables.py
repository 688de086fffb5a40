"""turnout-tables: the public turnout tables in results.json hide every cell of 1 to 9
participants, no hidden cell can be worked out from the totals, and every figure they show
agrees with the published participation counts (participation.json)."""
from __future__ import annotations

from pbvote.audit.suppression import TOTAL, check_published
from pbvote.audit.verify.checks import State
from pbvote.audit.verify.layout import PARTICIPATION_FILE, RESULTS_FILE
from pbvote.audit.verify.report import CheckFailed

#: channels the participation file counts under another name in the channel table
_DESK_PARTS = ("desk", "self-declared")
#: online participations of residents who declared online are counted apart from "online"
_ONLINE_PARTS = ("online", "self-declared-online")


def check_turnout_tables(state: State) -> str:
    tables = state.results.get("turnout_tables")
    if tables is None:
        raise CheckFailed(f"{RESULTS_FILE} has no 'turnout_tables'")
    counted = {slug: sum(channels.values()) for slug, channels in state.participation.items()}
    shown = 0
    for kind in ("channel", "day", "age"):
        table = tables[kind]
        problem = check_published(table, tables["threshold"])
        if problem or tables["threshold"] < 10:
            raise CheckFailed(f"turnout table {kind}: {problem or 'threshold below 10'}")
        if set(table["rows"]) != set(counted):
            raise CheckFailed(f"turnout table {kind}: districts {sorted(table['rows'])} are not "
                              f"those of {PARTICIPATION_FILE}")
        for slug, total in counted.items():
            value = table["cells"][slug][TOTAL]
            if value is not None and value != total:
                raise CheckFailed(f"turnout table {kind}: {slug} shows {value} participations, "
                                  f"{PARTICIPATION_FILE} counts {total}")
        grand = table["cells"][TOTAL][TOTAL]
        if grand is not None and grand != sum(counted.values()):
            raise CheckFailed(f"turnout table {kind}: the total {grand} is not the "
                              f"{sum(counted.values())} of {PARTICIPATION_FILE}")
        shown += sum(v is not None for row in table["cells"].values() for v in row.values())
    channel = tables["channel"]
    for slug, channels in state.participation.items():
        row = channel["cells"][slug]
        for name, value in row.items():
            if name in (TOTAL, *_DESK_PARTS, *_ONLINE_PARTS) or value is None:
                continue
            if value != channels.get(name, 0):
                raise CheckFailed(f"turnout table channel: {slug}/{name} shows {value}, "
                                  f"{PARTICIPATION_FILE} counts {channels.get(name, 0)}")
        parts = [row.get(name, 0) for name in _DESK_PARTS]
        if None not in parts and sum(parts) != channels.get("desk", 0):
            raise CheckFailed(f"turnout table channel: {slug} desk and self-declared show "
                              f"{sum(parts)}, {PARTICIPATION_FILE} counts "
                              f"{channels.get('desk', 0)} at desks")
        parts = [row.get(name, 0) for name in _ONLINE_PARTS]
        if None not in parts and sum(parts) != channels.get("online", 0):
            raise CheckFailed(f"turnout table channel: {slug} online and self-declared online "
                              f"show {sum(parts)}, {PARTICIPATION_FILE} counts "
                              f"{channels.get('online', 0)} online")
    return f"3 tables, {shown} figures shown, none below {tables['threshold']} or recoverable"
