"""The sampled paper audit: which paper ballots to pull, how many, and what the findings mean.

Pure rules (standard library only), so an observer can repeat every step with a short script.

Sampling (reproducible from the public seed)
    1. Take the serials of every entered paper ballot (counted, spoiled or invalid), remove
       duplicates, and write each as printed (upper case, e.g. ``AP-7K3M-Q9XD``).
    2. For each serial compute ``SHA-256(seed + ":" + serial)`` over the UTF-8 bytes, as
       lower-case hex. The seed is used exactly as typed.
    3. Sort the serials by that hex digest (ties, which SHA-256 makes practically
       impossible, by the serial) and take the first ``n``.

    In Python: ``sorted(serials, key=lambda s: (sha256(f"{seed}:{s}".encode()).hexdigest(),
    s))[:n]``. Ordering by a keyed hash is a uniformly random permutation for a seed nobody
    could choose in advance, so the first n are a simple random sample without replacement.

Sample size
    ``percentage``: ``ceil(N × p / 100)`` serials, at least one when there are any.

    ``risk``: the "super-simple" ballot-level comparison audit bound of P. B. Stark,
    "Super-simple simultaneous single-ballot risk-limiting audits", EVT/WOTE 2010:
    ``n = ceil(-2 γ ln(α) / μ)`` with γ = 1.03905 (Stark's inflation factor), α the risk
    limit and μ the diluted margin: the reported margin (in ballots) of the closest
    funded-vs-unfunded decision divided by the ballots cast, both as fractions. It assumes
    the sample finds no discrepancy (the "initial sample size"); see `hand_count_advised`.
    PB rules elect several projects under a budget, so this treats the closest pair of
    projects as a two-way contest: conservative when the auditor enters the smallest margin.
    The result is capped at N (then the audit is a full hand count of the paper).

When is a full hand count advised?
    ``risk``: as soon as the audit finds any discrepancy. The initial sample size above is
    only enough when the sample confirms every recorded ballot; rather than escalate in
    rounds, pbvote advises counting all the paper.
    ``percentage``: when the discrepancy rate exceeds the tolerance (default 1 %), or when
    the margin is given and the discrepancies found, projected to all N paper ballots,
    could reach half of it (each discrepancy may move one vote from a winner to a loser).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from fractions import Fraction

from pbvote.i18n_hook import _

#: Stark (2010), super-simple audits: inflation factor for 1- and 2-vote overstatements
SUPER_SIMPLE_GAMMA = Fraction(103905, 100000)
METHODS = ("risk", "percentage")
DEFAULT_TOLERANCE_PERCENT = Fraction(1)


class AuditInputError(ValueError):
    """A value the auditor typed that the audit cannot use; the message says why, and
    `field` names the audit form's field it is about (None: the form as a whole)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def parse_percent(text: str, name: str, *, allow_zero: bool = False,
                  field: str | None = None) -> Fraction:
    """A percentage typed as a decimal ("5", "2.5"), exactly; 0 < p ≤ 100."""
    cleaned = (text or "").strip().rstrip("%").strip()
    try:
        value = Fraction(cleaned)
    except (ValueError, ZeroDivisionError):
        raise AuditInputError(_("%(name)s must be a number of percent, such as 5 or 2.5.",
                                name=name), field) from None
    if value > 100 or value < 0 or (value == 0 and not allow_zero):
        raise AuditInputError(_("%(name)s must be more than 0 and at most 100 percent.",
                                name=name), field)
    return value


def sample_key(seed: str, serial: str) -> str:
    return hashlib.sha256(f"{seed}:{serial}".encode()).hexdigest()


def sample_serials(seed: str, serials, size: int) -> list[str]:
    """The first `size` serials ordered by SHA-256(seed:serial); see the module docstring."""
    if not seed or not seed.strip():
        raise AuditInputError(_("Enter the public random seed."), "seed")
    if size < 0:
        raise AuditInputError(_("The sample size cannot be negative."))
    unique = sorted({s.strip().upper() for s in serials})
    return sorted(unique, key=lambda s: (sample_key(seed, s), s))[:size]


def risk_limit_sample_size(population: int, risk_limit_percent: Fraction,
                           margin_percent: Fraction) -> int:
    """Stark's super-simple initial sample size, capped at the population."""
    if population <= 0:
        return 0
    if not 0 < risk_limit_percent < 100:
        raise AuditInputError(_("The risk limit must be between 0 and 100 percent."),
                              "risk_limit")
    if margin_percent <= 0:
        raise AuditInputError(_("The reported margin must be more than 0 percent."), "margin")
    alpha = risk_limit_percent / 100
    margin = margin_percent / 100
    # ln is irrational; float is precise enough for a count rounded up, and the inputs
    # stay exact fractions until this one step.
    raw = float(-2 * SUPER_SIMPLE_GAMMA) * math.log(float(alpha)) / float(margin)
    return min(population, math.ceil(raw - 1e-9))


def percentage_sample_size(population: int, percent: Fraction) -> int:
    if population <= 0:
        return 0
    if not 0 < percent <= 100:
        raise AuditInputError(_("The percentage must be more than 0 and at most 100."),
                              "percentage")
    size = math.ceil(Fraction(population) * percent / 100)
    return max(1, min(population, size))


def sample_size(method: str, population: int, *, risk_limit: Fraction | None = None,
                margin: Fraction | None = None, percentage: Fraction | None = None) -> int:
    if method == "risk":
        if risk_limit is None or margin is None:
            raise AuditInputError(_("A risk-limit audit needs the risk limit and the margin."),
                                  "risk_limit" if risk_limit is None else "margin")
        return risk_limit_sample_size(population, risk_limit, margin)
    if method == "percentage":
        if percentage is None:
            raise AuditInputError(_("A fixed-percentage audit needs the percentage."),
                                  "percentage")
        return percentage_sample_size(population, percentage)
    raise AuditInputError(_("Unknown audit method '%(method)s'; choose one of %(methods)s.",
                            method=method, methods=", ".join(METHODS)), "method")


@dataclass(frozen=True)
class AuditSummary:
    sample_size: int
    audited: int
    discrepancies: int
    #: discrepancies / audited, exact; None before any finding
    discrepancy_rate: Fraction | None
    complete: bool
    hand_count_advised: bool
    explanation: str

    def rate_percent_text(self) -> str:
        if self.discrepancy_rate is None:
            return "–"
        return f"{float(self.discrepancy_rate * 100):.2f} %"


def summarise(method: str, population: int, sample_size: int, discrepancies: int, audited: int,
              *, margin: Fraction | None = None,
              tolerance: Fraction = DEFAULT_TOLERANCE_PERCENT) -> AuditSummary:
    """The discrepancy rate and whether a full hand count is advised (module docstring)."""
    rate = Fraction(discrepancies, audited) if audited else None
    complete = audited >= sample_size
    if method == "risk":
        advised = discrepancies > 0
        explanation = ("A discrepancy was found: the sample size assumed none, so count all "
                       "the paper ballots by hand." if advised else
                       "No discrepancy so far." + (" The risk limit is met." if complete else ""))
    else:
        over_tolerance = rate is not None and rate * 100 > tolerance
        projected = (rate * population) if rate is not None else Fraction(0)
        margin_ballots = (margin / 100 * population) if margin else None
        threatens_margin = margin_ballots is not None and projected * 2 >= margin_ballots \
            and discrepancies > 0
        advised = over_tolerance or threatens_margin
        if over_tolerance:
            explanation = (f"The discrepancy rate is above the {float(tolerance):g} % "
                           "tolerance: count all the paper ballots by hand.")
        elif threatens_margin:
            explanation = ("Projected to all paper ballots, the discrepancies could reach half "
                           "the reported margin: count all the paper ballots by hand.")
        else:
            explanation = "The discrepancy rate is within the tolerance."
    return AuditSummary(sample_size, audited, discrepancies, rate, complete, advised, explanation)
