"""A warehouse with real forms for the review desk's page tests, built once per test process: a
held voucher sheet in Word, a held one in Excel, a held printed PDF, a scan (OCR: ~10 s, so only
once) and a file that is not a form. Each file is given its own time of arrival (its modification
time), a day apart, so "newest first" has an order to show. The pages only read it."""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import os
import shutil
import tempfile
from pathlib import Path

from pipeline.settings import Settings
from pipeline.web.app import accounts_for, create_app
from pipeline.web.roles import Role
from tests.web.conftest import PASSWORD

GOLDEN = Path(__file__).parents[1] / "golden"
GOLDEN_SCANS = Path(__file__).parents[1] / "golden_scans"
# oldest first: (file, its name in the inbox, day of arrival in November 2025)
FILES = [
    (GOLDEN / "unreadable" / "meeting_notes_not_a_form.docx", "Meeting notes.docx", 3),
    (GOLDEN_SCANS / "voucher" / "clean_300dpi.png", "Vouchers September (scanned).png", 4),
    (GOLDEN / "voucher" / "libreoffice_bad_text_amounts_total.xlsx", "Vouchers May.xlsx", 5),
    (GOLDEN / "voucher" / "pdf_bad_amount_cap_unsigned_unit.pdf", "Vouchers printed.pdf", 6),
    (GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx", "Vouchers workshop 3.docx", 7),
]


@functools.cache
def review_outputs() -> Path:
    """The outputs folder of one run over FILES (the same for every test of this process)."""
    from pipeline.runtime.run import run_pipeline

    root = Path(tempfile.mkdtemp(prefix="coforms-review-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    inbox = root / "inbox"
    inbox.mkdir()
    for source, name, day in FILES:
        target = inbox / name
        shutil.copyfile(source, target)
        moment = dt.datetime(2025, 11, day, 12, tzinfo=dt.UTC).timestamp()
        os.utime(target, (moment, moment))
    run_pipeline(Settings(inbox=inbox, outputs=root / "outputs", settle_seconds=0))
    return root / "outputs"


def review_app():
    """The review desk on that warehouse, with one account per role (PASSWORD)."""
    settings = Settings(outputs=review_outputs(), inbox=review_outputs().parent / "inbox")
    accounts = accounts_for(settings)
    known = {account.user.name for account in accounts.users()}
    for role in Role:
        if f"{role.value}-user" not in known:
            accounts.add_user(f"{role.value}-user", role, PASSWORD)
    return create_app(settings)


def submission_of(source_file: str) -> int:
    """The submission id the run gave a file (by its name in the inbox)."""
    import duckdb

    con = duckdb.connect(str(review_outputs() / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT submission_id FROM store.submissions WHERE source_file = ?", [source_file]
        ).fetchone()[0]
    finally:
        con.close()
