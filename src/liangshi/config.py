"""One Settings object, read from LIANGSHI_* environment variables at the entry point."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; built once by the entry point and passed down."""

    model_config = SettingsConfigDict(env_prefix="LIANGSHI_", env_file=None)

    database_url: str = "sqlite:///./liangshi.db"
    # A read-only replica for the reporting reads (dashboard KPIs, statistical tables, progress reports): unset,
    # everything reads the primary. Logins, jurisdiction checks and audit entries always stay on the primary. A
    # replica lagging more than replica_max_lag_seconds, or down, is passed over (the primary answers, and the log
    # says so) and tried again after replica_retry_seconds.
    replica_url: str | None = None
    replica_max_lag_seconds: float = Field(default=300.0, ge=0)
    replica_retry_seconds: float = Field(default=30.0, ge=0)
    # Requests larger than this are refused with 413 before any parsing.
    max_body_bytes: int = 1_000_000
    # API tokens expire after this many days unless given another lifetime.
    token_days: int = 30
    default_page_size: int = 50
    max_page_size: int = 500
    sql_echo: bool = False
    # Each process's PostgreSQL connection pool: kept connections and the extra ones it may open at a peak.
    # `liangshi serve --workers N` lowers both so that its N workers together stay within db_max_connections
    # (below PostgreSQL's max_connections, 100 by default, leaving room for the CLI's jobs and replication).
    db_pool_size: int = 10
    db_max_overflow: int = 20
    db_max_connections: int = 80
    # Department exchange: a TOML file of per-field precedence rules (default: the packaged precedence.toml),
    # and the working days a feedback on a doubted value has for its decision (pick-up: 2 working days).
    precedence_file: str | None = None
    feedback_decision_days: int = 10
    # Web pages: the session cookie is sent over HTTPS only when true (set it in production behind TLS).
    cookie_secure: bool = False
    # Web login sessions (server-side tokens) last this many days.
    web_session_days: int = 1
    # Idle timeout (等保 2.0 level 3): a web session or a login token of the API unused this long is refused and
    # must log in again; 0 turns it off. Integration tokens (`liangshi user token`) have only their lifetime.
    session_idle_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    # Password policy: at least this many characters, three of lower case, upper case, digits and others, not the
    # username, and none of the user's last password_history passwords.
    password_min_length: int = Field(default=10, ge=8, le=128)
    password_history: int = Field(default=5, ge=0, le=50)
    # TOTP two-factor login (RFC 6238) for these roles: they enrol on their first web login and give a code at
    # every login after (web and POST /auth/token). Empty: nobody is asked (a development setting only).
    totp_roles: str = "city_admin,district_admin,station_admin,auditor"
    # Map page tile layer: none by default (plates and buildings on a blank background, works offline). A URL
    # template such as a Tianditu or an in-house tile server: `https://t{s}.example/…/{z}/{x}/{y}.png`.
    map_tile_url: str | None = None
    # The datum of those tiles: "gcj02" for Chinese web maps (points are shifted from WGS-84), else "wgs84".
    map_tile_crs: Literal["wgs84", "gcj02"] = "wgs84"
    map_tile_attribution: str = ""
    # Subdomains substituted for {s} in the tile URL.
    map_tile_subdomains: str = "01234567"
    # KPI reports (dashboard, /kpis) are reused for this many seconds; 0 computes every request afresh.
    kpi_cache_seconds: int = 300
    # `liangshi serve` counts the default dashboard report of every top area in the background this often (so a
    # dashboard request narrows a fresh report instead of counting the city); 0 turns it off. Keep it below
    # kpi_cache_seconds so a warmed report never expires before the next round.
    kpi_warm_seconds: int = 240
    # The review desk (liangshi.review): what district policy reviews after the station, as comma-separated tags
    # (residence categories: overseas = 境外), change set actions (departure = deregistrations) and a sample share.
    review_district_tags: str = "overseas"
    review_district_actions: str = "departure"
    review_district_sample: float = 0.0
    # The address a plate's QR code points at (`<public_base_url>/q/<code>`, issue 20): the server as residents reach
    # it. Unset, the web and API use the address the request came to; the CLI needs it for a sheet to print.
    public_base_url: str | None = None
    # Self-declarations (自主申报) from a scanned plate: at most this many an hour from one client address and to
    # one plate (per server process).
    declaration_per_ip_hour: int = 5
    declaration_per_plate_hour: int = 20
    # Where the server keeps its own files (the audit signing key, unless audit_key_file says otherwise).
    data_dir: str = "."
    # The Ed25519 key that signs the audit log's tree heads: base64 of the 32 private bytes (from the environment),
    # else this file (default <data_dir>/audit-keys/signing.key, generated on first use with mode 0600).
    audit_signing_key: str | None = None
    audit_key_file: str | None = None
    # Field encryption at rest (docs/encryption.md): the keyring's JSON text from the environment
    # (LIANGSHI_FIELD_KEYS), else the keyring file (LIANGSHI_FIELD_KEY_FILE, mode 0600, `liangshi keys generate`).
    field_keys: str | None = None
    field_key_file: str | None = None
    # `liangshi serve` folds newly committed audit entries into the Merkle tree this often (seconds, at most 1).
    audit_sequence_seconds: float = Field(default=1.0, gt=0, le=1)
    # Audit entries are kept at least this long (等保 2.0 level 3: six months); older ones may be archived.
    audit_retention_days: int = Field(default=183, ge=183)
    # `liangshi serve` runs every quality check over the whole register this often, as the system operator (so a
    # collector's list of findings is never older than this); 0 turns it off.
    checks_every_seconds: int = 6 * 3600
    # `liangshi serve` recounts the campaign progress counts of every building this many seconds after midnight,
    # China time, every day (so the first dashboard of the day does not pay the full recount); -1 turns it off.
    campaign_recount_after_midnight: int = Field(default=300, ge=-1, lt=86400)
