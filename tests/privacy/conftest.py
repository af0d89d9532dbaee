"""A warehouse built once per test module by running the pipeline on the sample inbox (the typed
files and the sample email; not the scan, whose OCR takes a minute) and one more voucher sheet
that spells a recipient in capitals with two spaces ("GRACE  ADEYEMI") and names Margaret Hughes.
Each test gets its own copy of the outputs folder."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.runtime.run import run_pipeline
from pipeline.settings import Settings
from tests.conftest import TODAY, copy_samples
from tests.fixtures.voucher_sheets import voucher_sheet

JUNE_SHEET = "Vouchers June 2025.xlsx"
JUNE_LINES = [
    ("GRACE  ADEYEMI", dt.date(2025, 6, 3), "Workshop 3", Decimal("20.00")),
    ("Margaret Hughes", dt.date(2025, 6, 3), "Workshop 3", Decimal("20.00")),
    ("Peter Novak", dt.date(2025, 6, 10), "Reading group", Decimal("15.50")),
]


def fill_inbox(inbox: Path) -> None:
    copy_samples(inbox)
    for scan in inbox.glob("*.png"):
        scan.unlink()
    (inbox / JUNE_SHEET).write_bytes(voucher_sheet(JUNE_LINES))


def build(folder: Path, **settings) -> Settings:
    """The pipeline run on the sample inbox into folder/outputs (settings: e.g. warehouse_url)."""
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    fill_inbox(inbox)
    built = Settings(inbox=inbox, outputs=folder / "outputs", workers=1, **settings)
    run_pipeline(built, today=TODAY)
    return built


@pytest.fixture(scope="module")
def built_outputs(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("built")).outputs


@pytest.fixture
def settings(built_outputs: Path, tmp_path: Path, monkeypatch) -> Settings:
    """Settings on a copy of the built outputs folder (no coforms.toml or COFORMS_* leaking in)."""
    import os

    for key in list(os.environ):
        if key.startswith("COFORMS_") and key != "COFORMS_SETTLE_SECONDS":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(built_outputs, tmp_path / "outputs")
    (tmp_path / "inbox").mkdir()
    return Settings(inbox=tmp_path / "inbox", outputs=tmp_path / "outputs", workers=1)
