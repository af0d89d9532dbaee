"""Settings from COFORMS_* environment variables, then an optional coforms.toml, then defaults."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_ENV = "COFORMS_CONFIG"

# % of adult residents per seldom-heard group (the monitoring view's flags): illustrative only.
DEFAULT_BASELINE = {
    "ethnic_minority": 60.0,
    "lgbtq": 7.0,
    "carer_flag": 7.0,
    "over_75": 6.0,
    "disabled": 14.0,
    "homeless": 1.0,
    "refugee_or_asylum_seeker": 2.0,
    "gypsy_roma_traveller": 0.3,
    "language_barrier": 12.0,
    "dementia": 0.6,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COFORMS_", toml_file="coforms.toml", extra="ignore")

    inbox: Path = Field(Path("inbox"), description="Folder where emailed forms and files arrive.")
    outputs: Path = Field(Path("outputs"), description="Warehouse, reports and the archive of originals.")
    schedule_cron: str = Field("*/15 * * * *", description="When `coforms serve` runs the pipeline (cron).")
    timezone: str = Field("Europe/London", description="Time zone of the schedule.")
    voucher_line_cap: Decimal = Field(
        Decimal("100"), description="A voucher line above this (GBP) is flagged over_cap."
    )
    max_file_bytes: int = Field(25 * 1024 * 1024, description="Larger files are refused as too_large.")
    batch_size: int = Field(200, ge=1, description="Files per Prefect task and per warehouse transaction.")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="Processes that read files at once, each under the read limits below.",
    )
    dask_address: str | None = Field(
        None,
        description="Scheduler of an existing Dask cluster (tcp://host:8786): files are parsed there. "
        "Unset: a local process pool.",
    )
    warehouse_url: SecretStr | None = Field(
        None,
        description="A PostgreSQL database for the warehouse (postgresql://user:password@host/db). "
        "Unset: the DuckDB file outputs/warehouse.duckdb.",
    )
    lock_wait_seconds: float = Field(600, ge=0, description="How long a run waits for another to finish.")
    settle_seconds: float = Field(
        5,
        ge=0,
        description="A file in the inbox is taken only once it has not changed for this long "
        "(so a file still being copied in is left for the next run).",
    )
    parse_seconds: float = Field(60, gt=0, description="Time limit for reading one file (each format, OCR too).")
    parse_memory_mb: int = Field(2048, ge=256, description="Memory limit of each process that reads files.")
    conversion_seconds: float = Field(120, gt=0, description="Time limit for LibreOffice to convert one old file.")
    ocr_page_seconds: float = Field(
        60, gt=0, description="Time limit for reading one page of a scan or photo (OCR), on top of parse_seconds."
    )
    ocr_max_pages: int = Field(40, ge=1, description="Scans with more pages than this are refused as too_large.")
    prefect_api_url: str = Field("http://127.0.0.1:4200/api", description="Prefect server used by `coforms serve`.")
    allowed_senders: list[str] = Field(
        default_factory=list,
        description="Email senders whose attachments are read: addresses or domains (camden.gov.uk). Empty: all.",
    )

    # The co-production mailbox (`coforms fetch`, and the first task of the scheduled flow).
    imap_host: str | None = Field(None, description="IMAP server; unset: no mail is fetched.")
    imap_port: int = Field(993, description="993 for IMAPS, 143 for STARTTLS.")
    imap_security: Literal["ssl", "starttls"] = Field("ssl", description="TLS from the start, or upgraded.")
    imap_user: str | None = None
    imap_password: SecretStr | None = Field(None, description="Password login (never logged).")
    imap_oauth2_token: SecretStr | None = Field(None, description="XOAUTH2 access token (Microsoft 365).")
    imap_folder: str = "INBOX"
    imap_processed_folder: str = Field("Processed", description="Where fetched messages are moved on the server.")
    imap_ca_file: Path | None = Field(None, description="CA bundle for a server with a private certificate.")
    imap_timeout: float = 60.0

    # Microsoft 365: where basic-auth IMAP is switched off, coforms signs in as an app registration
    # (OAuth2 client credentials) and fetches a fresh access token whenever the last one expires.
    mail_source: Literal["imap", "graph"] = Field(
        "imap", description="How mail is fetched: IMAP (imap_* settings), or the Microsoft Graph mail API."
    )
    imap_auth: Literal["password", "token", "m365"] = Field(
        "password",
        description="IMAP login: 'password' (imap_password), 'token' (a fixed imap_oauth2_token), or "
        "'m365' (XOAUTH2 with tokens from Microsoft 365, settings m365_*).",
    )
    m365_tenant_id: str | None = Field(None, description="The council's Microsoft Entra tenant (directory) id.")
    m365_client_id: str | None = Field(None, description="The app registration's application (client) id.")
    m365_client_secret: SecretStr | None = Field(None, description="Its client secret (never logged).")
    m365_certificate: Path | None = Field(
        None, description="Or its certificate: a PEM file holding the private key and the certificate."
    )
    m365_authority: str = Field(
        "https://login.microsoftonline.com", description="Where tokens come from (change only for a national cloud)."
    )
    m365_ca_file: Path | None = Field(
        None, description="CA bundle for a token or Graph server with a private certificate."
    )
    graph_url: str = Field(
        "https://graph.microsoft.com/v1.0", description="The Microsoft Graph API (mail_source graph)."
    )
    graph_mailbox: str | None = Field(
        None, description="The co-production mailbox's address for Graph (default: imap_user)."
    )

    # Replies to senders whose forms have problems: drafts always, sending only when switched on.
    reply_from: str = Field("coproduction@camden.gov.uk", description="The From address of replies.")
    send_replies: bool = Field(False, description="Send the reply drafts by SMTP (off: drafts only).")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: Path | None = Field(None, description="CA bundle for an SMTP server with a private certificate.")

    # Finance: the ledger of vouchers issued, and the 12-month declaration check.
    ledger_path: Path | None = Field(
        None, description="Finance's ledger of vouchers issued (xlsx or csv: date, recipient, amount, reference)."
    )
    ledger_date_window_days: int = Field(
        7, ge=0, description="A claimed line matches a ledger entry issued at most this many days apart."
    )
    declare_threshold: Decimal = Field(
        Decimal("500.00"),
        description="Recipients whose claimed vouchers add up to more than this (GBP) in any 12 months are listed.",
    )

    # Anonymous monitoring data shown anywhere (summary.html, workbooks) is suppressed below this
    # count: 1 to (threshold - 1) people show as "fewer than N" and percentages from them are hidden,
    # as UK public bodies' statistical disclosure control does (0 is shown: nobody to identify).
    small_number_threshold: int = Field(
        5, ge=1, description="Counts of people from monitoring forms below this are shown as 'fewer than N'."
    )

    # Data protection (`coforms retention`): how long each kind of personal data is kept. Unset: kept.
    retention_originals_months: int | None = Field(
        24, ge=1, description="Emailed files and scans (the archive of originals) are deleted this long after loading."
    )
    retention_names_years: int | None = Field(
        6,
        ge=1,
        description="Residents' names on voucher lines (and in the forms' kept readings) are replaced by a stable "
        "pseudonym this long after loading; amounts and totals stay.",
    )
    retention_free_text_months: int | None = Field(
        None, ge=1, description="Free-text answers (feedback, comments) are cleared this long after loading."
    )

    # Who takes part vs the borough (summary.html): % of adult residents in each group. The
    # defaults are rough, illustrative figures: set them from your borough's Census 2021 profile.
    borough_baseline: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_BASELINE))

    # The admin's review desk (`coforms web`).
    web_host: str = Field("127.0.0.1", description="Address `coforms web` listens on (behind the council's proxy).")
    web_port: int = Field(8080, ge=1, le=65535, description="Port `coforms web` listens on.")
    web_session_hours: float = Field(8, gt=0, description="A session ends after this long without use.")
    web_trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1"],
        description="Addresses (or networks, 10.0.0.0/8) of the reverse proxies in front of `coforms web` whose "
        "X-Forwarded-For header names the real client (sign-in throttling counts per client).",
    )
    web_secure_cookies: bool = Field(
        True, description="Session cookies only over HTTPS (leave on; off only for a test on plain HTTP)."
    )
    # Single sign-on with the council's identity provider (OpenID Connect, e.g. Microsoft Entra ID):
    # on when web_oidc_issuer and web_oidc_client_id are set; local accounts keep working beside it.
    web_oidc_issuer: str | None = Field(
        None,
        description="The identity provider's issuer, e.g. https://login.microsoftonline.com/TENANT-ID/v2.0 "
        "(its /.well-known/openid-configuration is read from there).",
    )
    web_oidc_client_id: str | None = Field(None, description="The review desk's application (client) id there.")
    web_oidc_client_secret: SecretStr | None = Field(None, description="Its client secret (never logged).")
    web_oidc_roles_claim: str = Field(
        "roles",
        description="The ID token's claim that lists the app roles coforms.admin, coforms.finance, coforms.viewer.",
    )
    web_oidc_redirect_uri: str | None = Field(
        None,
        description="The address registered with the identity provider for its answer, "
        "https://HOST/login/sso/callback (default: made from the address the browser used).",
    )

    @property
    def warehouse_path(self) -> Path:
        """The embedded DuckDB file (used when no warehouse_url is set)."""
        return self.outputs / "warehouse.duckdb"

    @property
    def warehouse(self) -> Path | str:
        """What pipeline.store.warehouse.Warehouse opens: the server URL if one is set, else the file."""
        return self.warehouse_url.get_secret_value() if self.warehouse_url else self.warehouse_path

    @property
    def archive_dir(self) -> Path:
        return self.outputs / "archive"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        import os

        toml_file = os.environ.get(CONFIG_FILE_ENV, "coforms.toml")
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
            file_secret_settings,
        )
