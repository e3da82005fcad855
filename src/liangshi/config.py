"""One Settings object, read from LIANGSHI_* environment variables at the entry point."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; built once by the entry point and passed down."""

    model_config = SettingsConfigDict(env_prefix="LIANGSHI_", env_file=None)

    database_url: str = "sqlite:///./liangshi.db"
    # Requests larger than this are refused with 413 before any parsing.
    max_body_bytes: int = 1_000_000
    # API tokens expire after this many days unless given another lifetime.
    token_days: int = 30
    default_page_size: int = 50
    max_page_size: int = 500
    sql_echo: bool = False
    # Web pages: the session cookie is sent over HTTPS only when true (set it in production behind TLS).
    cookie_secure: bool = False
    # Web login sessions (server-side tokens) last this many days.
    web_session_days: int = 1
