"""One error hierarchy: every error has a stable code and a Chinese and an English message."""

from __future__ import annotations

from typing import Any


class LiangshiError(Exception):
    """Base error: `code` is stable (`residence.already_deregistered`), messages exist in zh and en."""

    http_status = 400

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        data: dict[str, Any] | None = None,
        *,
        http_status: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.data: dict[str, Any] = data or {}
        if http_status is not None:
            self.http_status = http_status

    def message(self, lang: str = "zh") -> str:
        """The message in the requested language (Chinese by default)."""
        return self.message_en if lang.startswith("en") else self.message_zh


class ValidationFailed(LiangshiError):
    """Input that breaks a rule; `data["field"]` names the field when there is one."""

    http_status = 422


class NotFound(LiangshiError):
    """The object does not exist, or is outside the caller's jurisdiction (never tell which)."""

    http_status = 404


class Conflict(LiangshiError):
    """A stale expected version, a duplicate, or a state that forbids the action."""

    http_status = 409


class Forbidden(LiangshiError):
    """The caller's role may not do this."""

    http_status = 403


class Unauthenticated(LiangshiError):
    """No valid credentials."""

    http_status = 401
