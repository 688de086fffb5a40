"""Pure rules for residents' ideas (proposals): the review state machine, what a submission
must contain, the per-person limit and the one-time email sign-in code.

No Flask or SQLAlchemy here; pbvote.services.proposals and pbvote.services.resident_auth
apply these rules.

Moderation is a separate flag, not a status: hiding abusive content keeps the idea's
review status, so unhiding puts it back exactly where it was, and a hidden idea can still
be reviewed (or merged) by staff.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pbvote.i18n_hook import N_, _, format_number, n_, translate
from pbvote.rules.ballots import Reason
from pbvote.rules.sign_in import one_time_code_state

# ---------------------------------------------------------------------------
# Statuses and transitions

STATUSES: tuple[str, ...] = ("submitted", "under_review", "needs_information", "feasible",
                             "not_feasible", "accepted", "merged")
STATUS_LABELS: dict[str, str] = {
    "submitted": N_("Submitted"),
    "under_review": N_("Under review"),
    "needs_information": N_("Needs information"),
    "feasible": N_("Feasible"),
    "not_feasible": N_("Not feasible"),
    "accepted": N_("Accepted"),
    "merged": N_("Merged"),
}
#: who may move an idea: staff, or the idea's author (only to answer a question)
ACTORS = ("staff", "author")


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    actor: str
    #: what the transition needs: "question", "answer", "reason", "cost" or "merge_target"
    needs: tuple[str, ...] = ()


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submitted", "under_review", "staff"),
    Transition("under_review", "needs_information", "staff", ("question",)),
    Transition("needs_information", "under_review", "author", ("answer",)),
    Transition("under_review", "feasible", "staff", ("cost",)),
    Transition("under_review", "not_feasible", "staff", ("reason",)),
    Transition("feasible", "accepted", "staff"),
    # A decision can be reopened, with the reason told to the author.
    Transition("feasible", "under_review", "staff", ("reason",)),
    Transition("not_feasible", "under_review", "staff", ("reason",)),
    *(Transition(source, "merged", "staff", ("merge_target",))
      for source in ("submitted", "under_review", "needs_information", "feasible",
                     "not_feasible")),
)
_BY_EDGE: dict[tuple[str, str], Transition] = {(t.source, t.target): t for t in TRANSITIONS}
#: steps that also happen by themselves: enough residents support a submitted idea (the
#: cycle's support threshold), and it enters staff review
AUTOMATIC: dict[tuple[str, str], str] = {("submitted", "under_review"): "supporters"}

#: text limits, in characters
TITLE_MAX = 120
DESCRIPTION_MAX = 5000
LOCATION_MAX = 300
MESSAGE_MAX = 2000
#: the largest amount accepted (whole currency units); matches rules.setup.MAXIMUM_AMOUNT
MAXIMUM_AMOUNT = 10**15


def status_label(status: str | None) -> str:
    """The English label (marked for translation; `translate` it to show it)."""
    return STATUS_LABELS.get(status or "", status or "")


def _lower_label(status: str | None) -> str:
    """A status as a word inside a sentence, in the reader's language."""
    return translate(status_label(status)).lower()


def transitions_from(status: str, actor: str = "staff") -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == status and t.actor == actor]


@dataclass(frozen=True)
class TransitionRequest:
    target: str
    actor: str
    question: str = ""
    answer: str = ""
    reason: str = ""
    cost: int | None = None
    merge_target_status: str | None = None
    merge_target_is_self: bool = False


def transition_problems(current: str, request: TransitionRequest) -> list[Reason]:
    """Why `request` may not move an idea that is `current`; empty when it may."""
    if request.target not in STATUSES:
        return [Reason("status", "unknown_status", _("'%(target)s' is not a status.",
                                                     target=request.target))]
    transition = _BY_EDGE.get((current, request.target))
    if transition is None:
        allowed = ", ".join(translate(status_label(t.target))
                            for t in transitions_from(current)) or _("none")
        return [Reason("status", "illegal_transition",
                       _("An idea that is %(current)s cannot become %(target)s. Possible next "
                         "steps: %(allowed)s.", current=_lower_label(current),
                         target=_lower_label(request.target), allowed=allowed))]
    if transition.actor != request.actor \
            and AUTOMATIC.get((current, request.target)) != request.actor:
        if transition.actor == "author":
            return [Reason("status", "wrong_actor",
                           _("Only the idea's author can make an idea %(target)s.",
                             target=_lower_label(request.target)))]
        return [Reason("status", "wrong_actor", _("Only staff can make an idea %(target)s.",
                                                  target=_lower_label(request.target)))]
    found: list[Reason] = []
    for need in transition.needs:
        if need in ("question", "answer", "reason"):
            found += message_problems(getattr(request, need), need)
        elif need == "cost":
            if request.cost is None:
                found.append(Reason("cost", "cost_required",
                                    _("Enter the cost estimate staff worked out.")))
            else:
                found += amount_problems(request.cost, "cost")
        elif need == "merge_target":
            found += _merge_target_problems(request)
    return found


def _merge_target_problems(request: TransitionRequest) -> list[Reason]:
    if request.merge_target_status is None:
        return [Reason("into", "merge_target_missing",
                       _("Choose the idea this one duplicates, in the same cycle."))]
    if request.merge_target_is_self:
        return [Reason("into", "merge_into_self", _("An idea cannot be merged into itself."))]
    if request.merge_target_status == "merged":
        return [Reason("into", "merge_target_merged",
                       _("That idea was itself merged; merge into the idea it points to."))]
    return []


#: field -> (message when empty, message when too long)
MESSAGE_PROBLEMS = {
    "question": (N_("Enter the question for the author."),
                 N_("Keep the question for the author under %(most)s characters.")),
    "answer": (N_("Enter the answer."), N_("Keep the answer under %(most)s characters.")),
    "reason": (N_("Enter the reason."), N_("Keep the reason under %(most)s characters.")),
}


def message_problems(text: str, field: str) -> list[Reason]:
    empty, too_long = MESSAGE_PROBLEMS["question" if field == "question" else
                                       "answer" if field == "answer" else "reason"]
    if not clean_text(text).strip():
        return [Reason(field, f"{field}_required", translate(empty))]
    if len(text) > MESSAGE_MAX:
        return [Reason(field, f"{field}_too_long",
                       translate(too_long) % {"most": format_number(MESSAGE_MAX)})]
    return []


def author_may_edit(status: str) -> bool:
    """Authors edit their idea until staff start reviewing it."""
    return status == "submitted"


def can_promote(status: str, already_promoted: bool) -> list[Reason]:
    if status != "accepted":
        return [Reason("ideas", "not_accepted",
                       _("Only accepted ideas become projects; this one is %(status)s.",
                         status=_lower_label(status)))]
    if already_promoted:
        return [Reason("ideas", "already_promoted", _("This idea already became a project."))]
    return []


# ---------------------------------------------------------------------------
# Text and amounts

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str | None) -> str:
    """Plain text: Windows line ends become \\n, other control characters go.

    HTML is not removed: it is stored as typed and escaped wherever it is shown.
    """
    return _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(text: str | None) -> str:
    return " ".join(clean_text(text).split())


def parse_amount(text: str | None) -> int | None | Reason:
    """An optional whole amount typed by a person: "", "12000", "12,000" or "12 000"."""
    value = re.sub(r"[\s,_]", "", text or "")
    if not value:
        return None
    # isdigit() also accepts superscripts such as "²", which int() refuses
    if not (value.isascii() and value.isdigit()) or len(value) > 16:
        return Reason("cost_estimate", "amount_invalid",
                      _("Enter the cost as a whole number, for example 25000."))
    return int(value)


def amount_problems(amount: int, field: str) -> list[Reason]:
    if amount <= 0:
        return [Reason(field, "amount_not_positive", _("Enter an amount above zero."))]
    if amount > MAXIMUM_AMOUNT:
        return [Reason(field, "amount_too_large", _("That amount is too large."))]
    return []


# ---------------------------------------------------------------------------
# Submissions

# English: content (the starting list staff edit; ideas store the category as chosen)
DEFAULT_CATEGORIES: tuple[str, ...] = (
    N_("Street lighting"), N_("Youth spaces"), N_("Safe routes to school"),
    N_("Parks and public space"), N_("Traffic calming"), N_("Community programmes"))
CATEGORY_MAX = 80
MAX_CATEGORIES = 40


@dataclass(frozen=True)
class Draft:
    """A submission as typed, already cleaned by `draft_from`."""

    title: str
    description: str
    category: str
    district: str
    location: str
    cost_estimate: int | None = None


def draft_from(title: str | None, description: str | None, category: str | None,
               district: str | None, location: str | None,
               cost_estimate: str | None) -> tuple[Draft, list[Reason]]:
    amount = parse_amount(cost_estimate)
    reasons = [amount] if isinstance(amount, Reason) else []
    draft = Draft(clean_line(title), clean_text(description).strip(), clean_line(category),
                  clean_line(district), clean_line(location),
                  None if isinstance(amount, Reason) else amount)
    return draft, reasons


def draft_problems(draft: Draft, categories: Sequence[str],
                   district_slugs: Iterable[str]) -> list[Reason]:
    found: list[Reason] = []
    if not draft.title:
        found.append(Reason("title", "title_required", _("Give your idea a short title.")))
    elif len(draft.title) > TITLE_MAX:
        found.append(Reason("title", "title_too_long",
                            _("Keep the title under %(most)s characters.",
                              most=format_number(TITLE_MAX))))
    if not draft.description:
        found.append(Reason("description", "description_required",
                            _("Describe your idea: what should change, and why.")))
    elif len(draft.description) > DESCRIPTION_MAX:
        found.append(Reason("description", "description_too_long",
                            _("Keep the description under %(most)s characters.",
                              most=format_number(DESCRIPTION_MAX))))
    if draft.category not in categories:
        found.append(Reason("category", "category_unknown", _("Choose a category from the list.")))
    if draft.district not in set(district_slugs):
        found.append(Reason("district", "district_unknown", _("Choose the district.")))
    if not draft.location:
        found.append(Reason("location", "location_required",
                            _("Say where, for example a street, a corner or a park.")))
    elif len(draft.location) > LOCATION_MAX:
        found.append(Reason("location", "location_too_long",
                            _("Keep the location under %(most)s characters.",
                              most=format_number(LOCATION_MAX))))
    if draft.cost_estimate is not None:
        found += amount_problems(draft.cost_estimate, "cost_estimate")
    return found


def limit_problem(existing: int, limit: int | None) -> Reason | None:
    """`limit` None means no limit per person."""
    if limit is not None and existing >= limit:
        return Reason("ideas", "limit_reached",
                      n_("You have already sent %(num)s idea; this cycle accepts at most "
                         "%(limit)s per person.",
                         "You have already sent %(num)s ideas; this cycle accepts at most "
                         "%(limit)s per person.", existing, limit=format_number(limit)))
    return None


def category_list_problems(categories: Sequence[str]) -> list[Reason]:
    found: list[Reason] = []
    if not categories:
        found.append(Reason("categories", "categories_required", _("List at least one category.")))
    if len(categories) > MAX_CATEGORIES:
        found.append(Reason("categories", "too_many_categories",
                            _("List at most %(most)s categories.",
                              most=format_number(MAX_CATEGORIES))))
    if any(len(c) > CATEGORY_MAX for c in categories):
        found.append(Reason("categories", "category_too_long",
                            _("Keep each category under %(most)s characters.",
                              most=format_number(CATEGORY_MAX))))
    if len({c.lower() for c in categories}) != len(categories):
        found.append(Reason("categories", "category_repeated", _("Each category once, please.")))
    return found


def parse_category_lines(text: str) -> list[str]:
    return [line for line in (clean_line(raw) for raw in clean_text(text).split("\n")) if line]


def in_window(starts_at: dt.datetime | None, ends_at: dt.datetime | None,
              now: dt.datetime) -> bool:
    return starts_at is not None and ends_at is not None and starts_at <= now < ends_at


# ---------------------------------------------------------------------------
# Search

SEARCH_MAX = 100


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere; %, _ and \\ typed by people are literal.

    Use with `escape="\\\\"`; the value itself is always a bound parameter.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ---------------------------------------------------------------------------
# One-time email sign-in codes

CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=10)
#: wrong guesses on one code before it stops working (a fresh code is then needed)
MAX_CODE_ATTEMPTS = 5


def new_sign_in_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise_sign_in_code(text: str | None) -> str | None:
    """The 6 digits typed, ignoring spaces and dashes; None when it is not 6 digits."""
    code = re.sub(r"[\s-]", "", text or "")
    return code if re.fullmatch(rf"\d{{{CODE_DIGITS}}}", code) else None


def code_state(expires_at: dt.datetime, attempts: int, used: bool, now: dt.datetime) -> str:
    """"usable", "used", "expired" or "exhausted" (too many wrong guesses)."""
    return one_time_code_state(expires_at, attempts, used, now, MAX_CODE_ATTEMPTS)
