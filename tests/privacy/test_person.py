"""`coforms person`: a subject access answer. The person is found under other spellings, by email
address, and under the pseudonym retention gave them; the folder holds every row and the original
files; nothing in the warehouse changes."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

from pipeline.privacy.actions import run_person, run_retention
from pipeline.privacy.pseudonyms import existing_key, pseudonym
from tests.conftest import coforms_env
from tests.privacy.conftest import JUNE_SHEET
from tests.privacy.helpers import everything, loaded_long_ago, rows


def _rows_csv(folder) -> list[dict]:
    with open(folder / "rows.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_person_found_under_other_spellings_with_rows_and_originals(settings):
    before = everything(settings)
    answer = run_person(settings, "grace ADEYEMI", [], settings.outputs.parent / "answer")
    exported = _rows_csv(answer.folder)
    names = {r["Value"] for r in exported if (r["Table"], r["Column"]) == ("voucher_lines", "name")}
    assert names == {"Grace Adeyemi", "GRACE ADEYEMI"}  # the form's two spaces are one in the warehouse
    files = {r["File"] for r in exported}
    assert files == {"Vouchers May 2025.xlsx", "Vouchers workshop 3.docx", JUNE_SHEET}
    assert {r["Table"] for r in exported} >= {"voucher_lines", "problems", "raw_forms"}
    assert "G Adeyemi" in {r["Value"] for r in exported}  # her signature as read
    assert all(r["Loaded at (UTC)"] for r in exported)
    # the original files, byte for byte
    copies = sorted((answer.folder / "originals").iterdir())
    shas = {hashlib.sha256(p.read_bytes()).hexdigest() for p in copies}
    expected = {
        sha
        for (sha,) in rows(
            settings, "SELECT sha256 FROM submissions WHERE form_type = 'voucher' AND status <> 'rejected'"
        )
    }
    assert shas == expected and len(copies) == 3
    assert (answer.folder / "rows.xlsx").is_file() and "Values that name this person" in (
        answer.folder / "summary.txt"
    ).read_text()
    assert all(p.stat().st_mode & 0o077 == 0 for p in [answer.folder, *answer.folder.rglob("*")])
    # Peter Novak, on the same sheets, is not in her answer
    assert not any("Novak" in r["Value"] for r in exported if r["Table"] == "voucher_lines")
    after = everything(settings)
    after["files"] = [f for f in after["files"] if not f[0].startswith("answer")]
    assert after == before


def test_person_found_by_email_address_with_the_email_they_sent(settings):
    answer = run_person(settings, "Amira Hassan", ["AMIRA.HASSAN@camden.gov.uk"], settings.outputs.parent / "a")
    exported = _rows_csv(answer.folder)
    places = {(r["Table"], r["Column"]) for r in exported}
    assert ("planning_leads", "lead_name") in places and ("submissions", "sender") in places
    copied = {p.name for p in (answer.folder / "originals").iterdir()}
    assert any(name.endswith("Forms from the library session.eml") for name in copied)
    assert any(name.endswith("Carers Week plan.docx") for name in copied)


def test_person_found_under_the_pseudonym_retention_gave_them(settings):
    loaded_long_ago(settings, ["Vouchers May 2025.xlsx"], years=7)
    run_retention(settings, apply=True, actor="tester")
    alias = pseudonym("Grace Adeyemi", existing_key(settings.outputs))
    answer = run_person(settings, "Grace Adeyemi", [], settings.outputs.parent / "answer")
    values = {r["Value"] for r in _rows_csv(answer.folder) if r["Table"] == "voucher_lines"}
    assert values == {alias, "Grace Adeyemi", "GRACE ADEYEMI"}


def test_nobody_found_says_so(settings):
    answer = run_person(settings, "Nobody Atall", [], settings.outputs.parent / "answer")
    assert answer.summary() == ["Nothing in the warehouse, the archive or the reply drafts names this person."]
    assert _rows_csv(answer.folder) == []


def test_the_commands_from_the_terminal(settings):
    env = coforms_env(settings.inbox, settings.outputs)
    coforms = [str(Path(sys.executable).parent / "coforms")]
    found = subprocess.run([*coforms, "person", "MARGARET  HUGHES"], env=env, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert "on 1 form (" in found.stdout and "subject-access" in found.stdout
    preview = subprocess.run(
        [*coforms, "erase", "Margaret Hughes", "--reason", "asked in writing", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert preview.returncode == 0, preview.stderr
    assert "Dry run: nothing was changed" in preview.stdout
    erased = subprocess.run(
        [*coforms, "erase", "Margaret Hughes", "--reason", "asked in writing"], env=env, capture_output=True, text=True
    )
    assert erased.returncode == 0 and "cannot be undone" in erased.stdout, erased.stderr
    again = subprocess.run(
        [*coforms, "erase", "Margaret Hughes", "--reason", "again"], env=env, capture_output=True, text=True
    )
    assert again.returncode == 1 and "nothing in the warehouse" in again.stderr.replace("\n", " ")
