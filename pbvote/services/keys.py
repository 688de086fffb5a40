"""Keyed hashes of identity data, with the app's identity key."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA-256; the purpose label keeps hashes of different fields apart."""
    key = current_app.config["IDENTITY_HMAC_KEY"].encode("utf-8")
    return hmac.new(key, f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def keyed_hasher(purpose: str):
    """`keyed_hash` for many values of one purpose: the HMAC's key set up once."""
    key = current_app.config["IDENTITY_HMAC_KEY"].encode("utf-8")
    prepared = hmac.new(key, f"{purpose}\x1f".encode(), hashlib.sha256)

    def hash_value(value: str) -> str:
        one = prepared.copy()
        one.update(value.encode())
        return one.hexdigest()

    return hash_value
