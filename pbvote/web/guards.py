"""Access is denied by default: each blueprint registers one policy for all its routes.

A request to a blueprint without a policy is refused, so a new blueprint is closed until
someone decides who may use it. Routes never carry their own access decorators.
"""
from __future__ import annotations

from typing import Callable

from flask import abort, request

Policy = Callable[[], object]
_POLICIES: dict[str, Policy] = {}


def set_policy(blueprint_name: str, policy: Policy) -> None:
    _POLICIES[blueprint_name] = policy


def allow_anyone() -> None:
    return None


def enforce_access():
    if request.endpoint is None or request.endpoint == "static":
        return None  # routing already answers 404/405; static files are public
    policy = _POLICIES.get(request.blueprint or "")
    if policy is None:
        abort(403)
    return policy()
