"""Settings from COFORMS_* environment variables, then an optional coforms.toml, then defaults."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

CONFIG_FILE_ENV = "COFORMS_CONFIG"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COFORMS_", toml_file="coforms.toml", extra="ignore")

    inbox: Path = Field(Path("inbox"), description="Folder where emailed forms and files arrive.")
    outputs: Path = Field(Path("outputs"), description="Warehouse, reports and the archive of originals.")
    schedule_cron: str = Field("*/15 * * * *", description="When `coforms serve` runs the pipeline (cron).")
    timezone: str = Field("Europe/London", description="Time zone of the schedule.")
    voucher_line_cap: Decimal = Field(Decimal("100"), description="A voucher line above this (GBP) is flagged over_cap.")
    max_file_bytes: int = Field(25 * 1024 * 1024, description="Larger files are refused as too_large.")
    batch_size: int = Field(200, ge=1, description="Files per Prefect task.")
    prefect_api_url: str = Field("http://127.0.0.1:4200/api", description="Prefect server used by `coforms serve`.")
    allowed_senders: list[str] = Field(
        default_factory=list,
        description="Email senders whose attachments are read: addresses or domains (camden.gov.uk). Empty: all.")

    @property
    def warehouse_path(self) -> Path:
        return self.outputs / "warehouse.duckdb"

    @property
    def archive_dir(self) -> Path:
        return self.outputs / "archive"

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        import os
        toml_file = os.environ.get(CONFIG_FILE_ENV, "coforms.toml")
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file), file_secret_settings)
