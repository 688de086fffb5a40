"""Residents' ideas: submitting and editing them, supporting them, staff review, merging
duplicates, moderation and promotion into ballot projects.

Every change is appended to the cycle's hash-chained log with the actor and before/after,
and every status change (and moderation) emails the author. Residents appear in the log as
"resident #<account id>", never by address, because a cycle's chain can be published.
Services flush; the request commits.

The parts live in submodules (common, intake, reading, residents, review); this package
re-exports their public names so callers keep writing `proposals.submit(...)`. To patch a
name in a test, patch it on the submodule that owns it: that is where callers look it up.
"""
from pbvote.rules import proposals as rules
from pbvote.services.proposals.common import (
    STATE_CODES,
    IntakeClosed,
    NotYours,
    ProposalRefused,
    TransitionRefused,
)
from pbvote.services.proposals.intake import (
    IntakeConfig,
    intake_config,
    intake_open,
    save_intake_settings,
)
from pbvote.services.proposals.reading import (
    PAGE_SIZE,
    SORTS,
    Listing,
    count_by_author,
    get_proposal,
    has_supported,
    idea_links,
    ideas_of,
    list_ideas,
    projects_of,
    publicly_visible,
    support_count,
)
from pbvote.services.proposals.residents import answer_question, edit, submit, support
from pbvote.services.proposals.review import (
    STAFF_SUBJECTS,
    change_status,
    hide,
    merge,
    promote,
    unhide,
)

__all__ = [
    "PAGE_SIZE", "SORTS", "STAFF_SUBJECTS", "STATE_CODES",
    "IntakeClosed", "IntakeConfig", "Listing", "NotYours", "ProposalRefused", "TransitionRefused",
    "answer_question", "change_status", "count_by_author", "edit", "get_proposal",
    "has_supported", "hide", "idea_links", "ideas_of", "intake_config", "intake_open",
    "list_ideas", "merge", "projects_of", "promote", "publicly_visible", "rules",
    "save_intake_settings", "submit", "support", "support_count", "unhide",
]
