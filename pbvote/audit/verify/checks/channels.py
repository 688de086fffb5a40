"""chain-channels: the chain's ballots per channel equal what results.json counted, and per
channel group (online; in person) the participations."""
from __future__ import annotations

from collections import Counter

from pbvote.audit.verify.checks import State, nonzero
from pbvote.audit.verify.layout import CHANNEL_GROUPS, RESULTS_FILE
from pbvote.audit.verify.report import CheckFailed


def check_chain_channels(state: State) -> str:
    state.chain_ballots.require("district", "channel")
    from_chain = state.chain_ballots.channels
    for slug in state.districts:
        chain_counts = nonzero(from_chain.get(slug, Counter()))
        voting = Counter(channel_groups(state.participation[slug]))
        voting[CHANNEL_GROUPS["desk"]] -= state.not_cast.get(slug, 0)
        voted = nonzero(voting)
        grouped = nonzero(channel_groups(chain_counts))
        if grouped != voted:
            raise CheckFailed(f"district {slug}: ballots in the chain by channel group "
                              f"{grouped} differ from participations {voted}")
        counted = nonzero(state.results_by_district[slug]["ballots_by_channel"])
        if chain_counts != counted:
            raise CheckFailed(f"district {slug}: ballots by channel in the chain "
                              f"{chain_counts} differ from the {counted} that "
                              f"{RESULTS_FILE} counted")
    return "ballots per district and channel equal participations"


def channel_groups(counts: dict[str, int]) -> dict[str, int]:
    """Counts per channel (of participations or of ballots) summed per CHANNEL_GROUPS."""
    grouped: Counter = Counter()
    for channel, number in counts.items():
        grouped[CHANNEL_GROUPS.get(channel, channel)] += int(number)
    return dict(grouped)
