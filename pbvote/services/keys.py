"""Keyed hashes of identity data, with the app's identity key."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA-256; the purpose label keeps hashes of different fields apart."""
    key = current_app.config["IDENTITY_HMAC_KEY"].encode("utf-8")
    return hmac.new(key, f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()
