"""Keyed hashes of identity data, with the app's identity key, and the guard that keeps one
identity key per cycle."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import exists, select

from pbvote.i18n_hook import _
from pbvote.infra.extensions import db
from pbvote.services.errors import DomainError


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA-256; the purpose label keeps hashes of different fields apart."""
    key = current_app.config["IDENTITY_HMAC_KEY"].encode("utf-8")
    return hmac.new(key, f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def keyed_hasher(purpose: str):
    """`keyed_hash` for many values of one purpose: the HMAC's key set up once."""
    key = current_app.config["IDENTITY_HMAC_KEY"].encode("utf-8")
    # HMAC (RFC 2104) written out over SHA-256 states prepared once: the same hash as
    # keyed_hash, with two C-level copies per value instead of hmac's Python wrapper
    # (about 1.7 times as fast, which a million access-code letters feel)
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(f"{purpose}\x1f".encode())
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    inner_copy, outer_copy = inner.copy, outer.copy

    def hash_value(value: str) -> str:
        one = inner_copy()
        one.update(value.encode())
        two = outer_copy()
        two.update(one.digest())
        return two.hexdigest()

    return hash_value


class IdentityKeyChanged(DomainError):
    def __init__(self):
        super().__init__(_(
            "This cycle's voter roll and access codes were made with another identity key, "
            "and people have voted under it. With this key everyone would become a new voter "
            "who has not voted yet, so nothing was done: set PBVOTE_IDENTITY_KEY back to the "
            "key this cycle was set up with."), 409)


def identity_key_fingerprint() -> str:
    """A one-way fingerprint of the identity key (stored with each cycle; it reveals nothing
    of the key), computed once per app and key."""
    key = current_app.config["IDENTITY_HMAC_KEY"]
    cached = current_app.extensions.get("pbvote_identity_fingerprint")
    if cached is None or cached[0] != key:
        digest = hmac.new(key.encode("utf-8"), b"pbvote identity key fingerprint",
                          hashlib.sha256).hexdigest()
        cached = (key, digest)
        current_app.extensions["pbvote_identity_fingerprint"] = cached
    return cached[1]


def identity_key_changed_after_votes(cycle) -> bool:
    """Does the app's identity key differ from the one this cycle's people voted under?"""
    from pbvote.models import Participation

    stored = cycle.identity_key_fingerprint
    return (stored is not None and stored != identity_key_fingerprint()
            and bool(db.session.scalar(select(exists().where(
                Participation.cycle_id == cycle.id)))))


def check_identity_key(cycle, *, record: bool = False) -> None:
    """Refuse to hash identities for a cycle with a key other than the one its people
    voted under. ``record`` (staff writes: roll import, codes) stores the fingerprint when
    the cycle has none yet, or when nobody has voted and a new key replaces the old one."""
    from pbvote.models import Participation

    current = identity_key_fingerprint()
    stored = cycle.identity_key_fingerprint
    if stored == current:
        return
    if stored is not None and db.session.scalar(select(exists().where(
            Participation.cycle_id == cycle.id))):
        raise IdentityKeyChanged()
    if record:
        cycle.identity_key_fingerprint = current
