"""What a backup holds, what it leaves out, and why.

The outputs folder's entries are named one by one: a backup holds what is listed in KEPT, and an
entry that is in neither list (something a newer part of coforms, or a person, put there) is
named in the backup's message rather than copied unseen, since it could hold a secret (a token
cache) or be gigabytes of something else.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path

from pydantic import SecretStr

from pipeline.settings import Settings

WAREHOUSE_FILE = "warehouse.duckdb"  # the embedded warehouse, under outputs/ (Settings.warehouse_path)
ACCOUNTS_FILE = "web/accounts.sqlite"  # the review desk's accounts (pipeline.web.accounts)

# copied as they are: the folders and files under outputs/ that only coforms writes, each under the run lock
KEPT = {
    "archive": "the original files, by SHA-256",
    "mail-ledger": "which mail was fetched already (so none is fetched twice)",
    "replies": "reply drafts to senders",
    "voucher_lines": "finance's workbooks of earlier financial years",
    "ocr-crops": "pictures of the doubtful spots of scans, shown on the review desk",
}
# left out on purpose (the warehouse and the accounts are copied by their own means)
LEFT_OUT = {
    WAREHOUSE_FILE: "copied by its own means",
    WAREHOUSE_FILE + ".wal": "copied by its own means",
    "web": "the accounts file is copied by its own means",
    ".coforms.lock": "the run lock",
    "tmp": "temporary files of a run",
    "coforms.log": "the log (being written while the backup is made)",
    "web-cache": "the review desk's cache, made again when needed",
    "exceptions.xlsx": "a report, written again after a restore",
    "voucher_reconciliation.xlsx": "a report, written again after a restore",
    "summary.html": "a report, written again after a restore",
    ".reports.json": "when the reports were written, written again after a restore",
    ".gitkeep": "an empty file that keeps the sample outputs folder in the repository",
    "subject-access": "answers to subject access requests (copies made for one request: delete them once sent)",
}
# secrets kept in the outputs folder: never in a backup (with them, a stolen backup gives more
# away); whoever looks after the settings' secrets keeps a copy of each, and puts it back after a restore
SECRET_FILES = {
    "privacy.key": "the key of residents' pseudonyms (without it, a name pseudonymised after a restore gets "
    "another pseudonym than before)",
}
SETTINGS_FILE = "settings.json"


def secret_files_present(outputs: Path) -> list[str]:
    return sorted(name for name in SECRET_FILES if (outputs / name).exists())


def unknown_entries(outputs: Path) -> list[str]:
    """Entries of the outputs folder a backup neither copies nor leaves out knowingly."""
    return sorted(
        entry.name
        for entry in outputs.iterdir()
        if entry.name not in KEPT
        and entry.name not in LEFT_OUT
        and entry.name not in SECRET_FILES
        and not entry.name.startswith(".coforms.lock")
    )


def _is_secret(annotation) -> bool:
    """A SecretStr field, alone or inside Optional/Union/list/dict."""
    if annotation is SecretStr:
        return True
    return any(_is_secret(arg) for arg in typing.get_args(annotation))


def secret_fields() -> list[str]:
    return sorted(name for name, field in Settings.model_fields.items() if _is_secret(field.annotation))


def settings_without_secrets(settings: Settings) -> bytes:
    """The settings in force when the backup was made, as JSON, with every secret left out (each
    is named under 'left_out', so whoever restores knows what to set again)."""
    secrets = secret_fields()
    kept = settings.model_dump(mode="json", exclude=set(secrets))
    document = {
        "note": "The settings when this backup was made. Secrets are not in it: set them again "
        "(in coforms.toml or COFORMS_* environment variables) after a restore.",
        "settings": kept,
        "left_out": secrets,
    }
    return json.dumps(document, indent=1, sort_keys=True).encode()
