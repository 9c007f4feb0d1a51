"""Invitation link tokens: 256 random bits in the link, only their SHA-256 in the database. A
fast hash is enough for a random secret this long (nothing to brute-force from a dictionary)."""

import hashlib
import secrets


def token_new() -> tuple[str, str]:
    """A fresh token for the link and the digest to store."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
