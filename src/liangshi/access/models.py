"""User and API token tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime
from liangshi.sealed import Sealed


class User(Base):
    """A person using the system, with one role and one jurisdiction (an area subtree)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(24))
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    department: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # TOTP two-factor login (等保 2.0 level 3, issue 18): the base32 secret, set at enrolment and in force once
    # confirmed with a code (totp_enabled_at); the last time step accepted, so a code is never accepted twice.
    # Sealed at rest (AES-256-GCM, docs/encryption.md): a clear secret in a dump or backup would be a second
    # factor given away.
    totp_secret: Mapped[str | None] = mapped_column(Sealed("user.totp_secret"))
    # A re-enrolment waiting for its first code: the secret in force stays totp_secret until then.
    totp_pending_secret: Mapped[str | None] = mapped_column(Sealed("user.totp_pending_secret"))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Idle timeout (issue 18): a token unused for longer than the setting is refused; refreshed on use.
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # None: a full session. "totp": the password was right, the second factor is still due. "enrol": the role
    # needs a second factor and the user has none yet; the token serves only the enrolment page.
    stage: Mapped[str | None] = mapped_column(String(8))


class PasswordHistory(Base):
    """A user's earlier password hashes, so a new password is none of the last N (password policy)."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class RecoveryCode(Base):
    """A one-time recovery code for a lost authenticator; only its SHA-256 is stored."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
