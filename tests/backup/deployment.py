"""A real deployment to back up: the sample inbox run through `coforms run` (the scan left out: OCR
is slow and adds nothing here), an admin's accept (so the audit has a row), a fetched message in
the mail ledger, a review-desk account, and the pseudonyms' key."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import copy_samples

COFORMS = str(Path(sys.executable).with_name("coforms"))
PASSWORD = "correct horse battery staple"


def coforms(workdir: Path, *args: str, outputs: Path | None = None, **settings: str) -> subprocess.CompletedProcess:
    """`coforms ARGS` in workdir, with only the settings given (none leaking in from this process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFORMS_")}
    env.update(
        COFORMS_INBOX=str(workdir / "inbox"),
        COFORMS_OUTPUTS=str(outputs or workdir / "outputs"),
        COFORMS_SETTLE_SECONDS="0",
        COFORMS_WORKERS="1",
    )
    env.update({f"COFORMS_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run([COFORMS, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def make_deployment(workdir: Path, **settings: str) -> Path:
    """The outputs folder of a deployment that has run (settings: e.g. warehouse_url)."""
    from pipeline.backup.contents import SECRET_FILES
    from pipeline.intake.mail_ledger import Ledger
    from pipeline.store.warehouse import Warehouse
    from pipeline.web.accounts import Accounts
    from pipeline.web.roles import Role

    inbox = workdir / "inbox"
    copy_samples(inbox)
    for scan in inbox.glob("*.png"):
        scan.unlink()
    outputs = workdir / "outputs"
    if "warehouse_url" in settings:
        ok(coforms(workdir, "migrate", **settings))
    ok(coforms(workdir, "run", **settings))
    target = settings.get("warehouse_url") or outputs / "warehouse.duckdb"
    with Warehouse(target, read_only=True) as warehouse:
        held = warehouse.one("SELECT min(submission_id) FROM submissions WHERE status = 'held'")[0]
    ok(coforms(workdir, "accept", str(held), "--reason", "checked with the sender by phone", **settings))
    Ledger(outputs / "mail-ledger").add(hashlib.sha256(b"a message").hexdigest(), "<m1@camden.gov.uk>")
    Accounts(outputs / "web" / "accounts.sqlite").add_user("amira", Role.ADMIN, PASSWORD)
    for name in SECRET_FILES:
        (outputs / name).write_bytes(b"not to be copied " + os.urandom(16).hex().encode())
    return outputs


def files_of(folder: Path, under: str = "") -> dict[str, bytes]:
    """Every file under folder/under, by relative path, with its bytes."""
    root = folder / under
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def accounts_rows(outputs: Path) -> list[tuple]:
    import sqlite3

    db = sqlite3.connect(outputs / "web" / "accounts.sqlite")
    try:
        return db.execute("SELECT name, role, password_hash, disabled, created_at FROM users ORDER BY name").fetchall()
    finally:
        db.close()
