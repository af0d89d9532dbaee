"""`coforms erase "Name" --reason "..."`: a person removed from everything coforms keeps.

Every value that names them (the places `coforms person` looks: pipeline.privacy.places) is
rewritten with the person replaced by a random pseudonym ("Person 5c07e1d2"), the same one
everywhere in this erasure: their voucher lines stay (finance's totals are the same, checked
before the commit, and their lines still group as one recipient) but nothing, not even the
pseudonyms' key, links them back to the name. Rows found under the stable pseudonym retention
gave them are rewritten too.

Original files cannot be edited: each original of a form that named them (and the email it came
in) is deleted from the archive, with its page pictures, and the warehouse records that; when
such a file also named other people, their rows stay in the warehouse but their original is gone
too, and the summary says so. Reply drafts that name them are deleted.

One audited action (`erase`): its reason is the admin's, with the person's name taken out, and
the counts. A dry run does all of it inside a transaction that is rolled back, and deletes no file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.privacy import changes, originals
from pipeline.privacy.access import find_person, forms_counted
from pipeline.privacy.mentions import Person
from pipeline.privacy.places import SIGNATURE, SIGNED
from pipeline.privacy.pseudonyms import erased_pseudonym, existing_key
from pipeline.store.warehouse import Warehouse
from pipeline.validate.names import person_key

NAME_IN_REASON = "[the person]"


class NothingToErase(Exception):
    plain_prefix = "Not done: "


class _Preview(Exception):
    """Raised inside a dry run's transaction, so that it is rolled back."""


@dataclass
class Erasure:
    values: int = 0
    forms: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    originals: list[str] = field(default_factory=list)  # sha256 of the files deleted
    shared_originals: int = 0  # of those, files that named other people too
    drafts: list[Path] = field(default_factory=list)
    audit_id: int | None = None
    answers_deleted: int = 0  # earlier subject access answers for them (copies of their data)

    def counts(self) -> str:
        return (
            f"erasure: {self.values} values changed on {self.forms} forms, {len(self.originals)} original files "
            f"deleted ({self.shared_originals} of them named other people too), {len(self.drafts)} reply drafts deleted"
        )

    def describe(self, dry_run: bool) -> list[str]:
        would = "would be" if dry_run else "were"
        lines = [
            f"Values naming this person that {would} replaced by a pseudonym: {self.values}, "
            f"on {forms_counted(self.forms)}"
            + (f" ({', '.join(f'{t}: {n}' for t, n in sorted(self.tables.items()))})." if self.tables else "."),
            f"Original files that {would} deleted: {len(self.originals)}.",
        ]
        if self.shared_originals:
            lines.append(
                f"  {self.shared_originals} of them also named other people: an original cannot be edited, so it "
                f"{'would be' if dry_run else 'was'} deleted whole. Those people's rows stay in the warehouse; "
                "their original file is gone."
            )
        lines.append(f"Reply drafts that name them {would} deleted: {len(self.drafts)}.")
        lines.append("Finance's totals: unchanged (checked).")
        if dry_run:
            lines += ["Dry run: nothing was changed.", "To do it, run the same command without --dry-run."]
        else:
            if self.answers_deleted:
                lines.append(f"Earlier subject access answers for them deleted: {self.answers_deleted}.")
            lines.append(f"Done (action {self.audit_id} in the audit table). This cannot be undone.")
        return lines


def _others_named(warehouse: Warehouse, sha256s: list[str], person: Person) -> int:
    """How many of these files named someone else too (another recipient or lead on a form in them)."""
    shared = 0
    for sha in sha256s:
        names = warehouse.rows(
            "SELECT l.name FROM store.voucher_lines l JOIN store.submissions s USING (submission_id) "
            "LEFT JOIN store.intake i USING (intake_id) WHERE (s.sha256 = :sha OR i.item_sha256 = :sha) "
            "AND l.name IS NOT NULL UNION ALL "
            "SELECT p.lead_name FROM store.planning_leads p JOIN store.submissions s USING (submission_id) "
            "LEFT JOIN store.intake i USING (intake_id) WHERE (s.sha256 = :sha OR i.item_sha256 = :sha) "
            "AND p.lead_name IS NOT NULL",
            sha=sha,
        )
        if any(not person.named_in(name) and person_key(name) for (name,) in names):
            shared += 1
    return shared


def erase(
    warehouse: Warehouse,
    outputs: Path,
    person: Person,
    reason: str,
    actor: str,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> Erasure:
    now = now or changes.utc_now()
    answer = find_person(warehouse, outputs, person)
    if not answer.found and not answer.drafts:
        raise NothingToErase(
            "nothing in the warehouse or the reply drafts names this person (`coforms person` shows the same)."
        )
    alias = erased_pseudonym()
    done = Erasure(drafts=answer.drafts)
    files = []
    for s in answer.forms.values():
        files += [sha for sha in (s.sha256, s.item_sha256) if sha]
    files = list(dict.fromkeys(files))
    key = existing_key(outputs) or b"figures only"
    try:
        with warehouse.transaction():
            before = changes.finance_figures(warehouse, key)
            done.shared_originals = _others_named(warehouse, files, person)
            counts = changes.rewrite(
                warehouse,
                answer.found,
                lambda found: SIGNED if found.place == SIGNATURE else person.replaced(found.value, alias),
            )
            done.tables = dict(counts)
            done.values = sum(counts.values())
            done.forms = len(answer.forms)
            originals.record_deleted(warehouse, files, "erasure", now)
            done.originals = files
            changes.check_totals(before, changes.finance_figures(warehouse, key))
            why = person.replaced(reason, NAME_IN_REASON)
            done.audit_id = changes.audit(warehouse, actor, "erase", f"{why} ({done.counts()})", now)
            if dry_run:
                raise _Preview
    except _Preview:
        return done
    originals.delete_files(outputs, files)
    for draft in answer.drafts:
        draft.unlink(missing_ok=True)
    done.answers_deleted = _delete_earlier_answers(outputs, person)
    return done


def _delete_earlier_answers(outputs: Path, person: Person) -> int:
    """Subject access answers made earlier for this person (OUTPUTS/subject-access/*) hold copies."""
    deleted = 0
    for folder in sorted((outputs / "subject-access").glob("*")):
        rows = folder / "rows.csv"
        if folder.is_dir() and rows.is_file() and person.named_in(rows.read_text("utf-8-sig", errors="replace")):
            shutil.rmtree(folder)
            deleted += 1
    return deleted
