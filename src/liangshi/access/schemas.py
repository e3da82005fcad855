"""Login, token and user shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from liangshi.common.types import Strict, Text50


class LoginIn(Strict):
    """Username and password."""

    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=128)
    # Roles with two-factor login: the authenticator app's 6 digits, or one of the recovery codes.
    totp_code: str | None = Field(None, min_length=1, max_length=20)

    model_config = {"json_schema_extra": {"examples": [{"username": "collector_zhang", "password": "..."}]}}


class TokenRead(BaseModel):
    """A bearer token for the Authorization header."""

    access_token: str
    token_type: str = "bearer"
    role: str
    username: str


class UserCreate(Strict):
    """A new user in a jurisdiction you cover, with a role not above yours."""

    username: str = Field(max_length=50)
    display_name: Text50
    password: str = Field(min_length=8, max_length=128, description="the password policy applies")
    role: str = Field(max_length=24)
    area_code: str = Field(pattern=r"^\d{6}(\d{3}){0,3}$")
    department: Text50 | None = None


class UserRead(BaseModel):
    """A user as others see it."""

    id: int
    username: str
    display_name: str
    role: str
    area_id: int
    department: str | None


class PasswordChange(Strict):
    """The current password and a new one under the password policy."""

    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class TotpEnrolIn(Strict):
    """Start a two-factor enrolment: the password, and for a user already enrolled (a re-enrolment) the code of
    the authenticator in force or a recovery code."""

    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=128)
    totp_code: str | None = Field(None, min_length=1, max_length=20)


class TotpEnrolRead(BaseModel):
    """The new secret, shown this once: as base32 text and as an otpauth:// URI for a QR code. It counts only
    once a first code confirms it (POST /auth/totp/confirm)."""

    secret: str
    otpauth_uri: str
    reenrol: bool


class TotpConfirmIn(Strict):
    """Confirm an enrolment with the first code the new secret gives."""

    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=128)
    code: str = Field(min_length=1, max_length=20)


class TotpConfirmRead(TokenRead):
    """Two-factor login is on: the recovery codes (shown this once, stored as hashes) and a session token."""

    recovery_codes: list[str]
