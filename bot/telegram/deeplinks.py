"""Deep links: t.me/<bot>?start=<payload> opens a private chat with the bot that asks a question (/sources' titles,
inline mode's button, a declined question's suggestion)."""

from __future__ import annotations

import base64
import binascii
import re

DEEP_LINK_PREFIX = "q-"  # t.me/bot?start=q-<base64url of the question>; plain words use _ for spaces
MAX_START_PARAMETER = 64


def deep_link_payload(question: str) -> str | None:
    """The /start parameter that asks `question` (letters, digits, _ and - only, at most 64), or None."""
    words = question.split()
    plain = "_".join(words)
    if plain and re.fullmatch(r"[A-Za-z0-9_-]+", plain) and not plain.startswith(DEEP_LINK_PREFIX):
        return plain if len(plain) <= MAX_START_PARAMETER else None
    encoded = DEEP_LINK_PREFIX + base64.urlsafe_b64encode(" ".join(words).encode()).decode().rstrip("=")
    return encoded if len(encoded) <= MAX_START_PARAMETER else None


def deep_link_question(payload: str) -> str | None:
    """The question a /start parameter carries (see `deep_link_payload`); None when it carries none."""
    if not payload or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload):
        return None
    if payload.startswith(DEEP_LINK_PREFIX):
        data = payload[len(DEEP_LINK_PREFIX) :]
        try:
            text = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return " ".join(text.split()) or None
    return " ".join(payload.replace("_", " ").split()) or None


def deep_link(username: str, question: str) -> str | None:
    """https://t.me/<bot>?start=... opening a private chat that asks `question`."""
    payload = deep_link_payload(question)
    return f"https://t.me/{username}?start={payload}" if payload and username else None
