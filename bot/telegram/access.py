"""Who may use the bot (ALLOWED_USER_IDS, empty = everyone) and who may administer it (ADMIN_USER_IDS)."""

from __future__ import annotations

from dataclasses import dataclass

from indexing.settings import Settings

REFUSAL = "Sorry, this bot is private. Ask its owner to add your Telegram user id: {user_id}."
ADMIN_ONLY = "Sorry, only the bot's admins can do that."


def refusal(user_id: int | None) -> str:
    """The refusal for a stranger, showing the id the owner needs to add to ALLOWED_USER_IDS."""
    return REFUSAL.format(user_id=user_id if user_id is not None else "unknown")


@dataclass(frozen=True)
class AccessPolicy:
    """Allow-list and admin list; admins are always allowed."""

    allowed: frozenset[int]
    admins: frozenset[int]

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        return cls(frozenset(settings.allowed_user_ids), frozenset(settings.admin_user_ids))

    def is_allowed(self, user_id: int | None) -> bool:
        if not self.allowed:
            return True
        return user_id is not None and (user_id in self.allowed or user_id in self.admins)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admins
