"""pbvote's tally engine: exact, explainable participatory-budgeting rules.

Standard library only (gmpy2 is used when installed, with identical results).

Typical use from plain data::

    from pbvote.tally import Instance, Profile, run_rule, explain
    inst = Instance.from_plain(budget=100_000, projects=[
        {"id": "p1", "cost": 60_000, "name": "Park"},
        {"id": "p2", "cost": 40_000, "name": "Library"}])
    prof = Profile.approval(inst, [{"p1"}, {"p1", "p2"}, {"p2"}])
    outcome = run_rule(inst, prof, "equalshares/add1", {"comparison": "none"})
    outcome.selected, outcome.total_cost, outcome.to_json()
    print(explain(outcome, inst))

``RULES`` / ``describe_rules()`` list every rule with a plain-language description and its
parameters; see :mod:`pbvote.tally.registry`.
"""
from .exact import HAVE_GMPY2, parse_exact
from .explain import explain
from .instance import BALLOT_TYPES, WITHDRAWN_COST, Instance, Profile, Project, TallyInputError
from .outcome import Outcome
from .pabulib import (
                       PabulibError,
                       PabulibFile,
                       default_rule_and_params,
                       dumps_pabulib,
                       from_election,
                       parse_pabulib,
                       read_pabulib,
                       write_pabulib,
)
from .registry import RULES, describe_rules, run_rule
from .ties import TieError

__all__ = [
    "BALLOT_TYPES", "HAVE_GMPY2", "WITHDRAWN_COST", "Instance", "Outcome", "PabulibError",
    "PabulibFile", "Profile", "Project", "RULES", "TallyInputError", "TieError",
    "default_rule_and_params", "describe_rules", "dumps_pabulib", "explain", "from_election",
    "parse_exact", "parse_pabulib", "read_pabulib", "run_rule", "write_pabulib",
]
