"""`coforms person "Name"`: everything that names a person, for a subject access request.

A person is found as the pipeline matches people (pipeline.privacy.mentions: "MARGARET HUGHES"
and "Margaret  Hughes" are one person), and also under their stable pseudonym where retention
replaced their name (it is still their data), and by an email address when one is given. The
answer is a folder, private to the pipeline's account:

- rows.xlsx and rows.csv: every value that names them (which form, table, column, value, when the
  form was loaded, who sent it);
- originals/: copies of the original files of those forms (and the emails they came in) still in
  the archive; the ones deleted are listed in summary.txt with when and why;
- replies/: reply drafts that name them;
- summary.txt: what the terminal shows.

Read-only: nothing in the warehouse changes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.files import private_dir, write_atomically
from pipeline.intake.archive import archive_path
from pipeline.privacy.drafts import drafts_naming
from pipeline.privacy.mentions import Person
from pipeline.privacy.originals import deleted_originals
from pipeline.privacy.places import Found, found_everywhere
from pipeline.privacy.pseudonyms import existing_key, pseudonym
from pipeline.store.warehouse import Warehouse

COLUMNS = [
    "Submission",
    "Form",
    "File",
    "Email file",
    "Table",
    "Column",
    "What it is",
    "Value",
    "Loaded at (UTC)",
    "Sender",
    "Received at (UTC)",
    "Status",
]


def person_to_find(outputs: Path, name: str | None, emails: list[str]) -> Person:
    """The person by name (and by their stable pseudonym, if names were ever pseudonymised) and email."""
    names = [name] if name and name.strip() else []
    key = existing_key(outputs)
    if key is not None and names:
        names.append(pseudonym(names[0], key))
    return Person.of(names, emails)


@dataclass
class Submission:
    submission_id: int
    form_type: str | None
    source_file: str
    container_file: str | None
    sender: str | None
    received_at: dt.datetime | None
    loaded_at: dt.datetime
    status: str
    sha256: str
    item_sha256: str | None


def submissions(warehouse: Warehouse, ids: set[int]) -> dict[int, Submission]:
    if not ids:
        return {}
    return {
        row[0]: Submission(*row)
        for row in warehouse.rows(
            "SELECT s.submission_id, s.form_type, s.source_file, s.container_file, s.sender, s.received_at, "
            "s.loaded_at, s.status, s.sha256, i.item_sha256 FROM store.submissions s "
            "LEFT JOIN store.intake i USING (intake_id) WHERE s.submission_id IN :ids ORDER BY s.submission_id",
            ids=sorted(ids),
        )
    }


@dataclass
class Answer:
    found: list[Found]
    forms: dict[int, Submission]
    originals_copied: list[Path] = field(default_factory=list)
    originals_deleted: list[tuple[int, str, dt.datetime, str]] = field(default_factory=list)  # sid, file, when, why
    drafts: list[Path] = field(default_factory=list)
    folder: Path | None = None

    def summary(self, listed: int | None = None) -> list[str]:
        """In words; `listed`: forms named one by one at most (all, in summary.txt)."""
        if not self.found and not self.drafts:
            return ["Nothing in the warehouse, the archive or the reply drafts names this person."]
        tables = sorted({f"{f.place.table}.{f.place.column}" for f in self.found})
        lines = [
            f"Values that name this person: {len(self.found)}, on {forms_counted(len(self.forms))} "
            f"(in {', '.join(tables) or 'no table'}).",
        ]
        lines.extend(
            f"  submission {s.submission_id}: {s.form_type or 'not a form'}, {s.source_file}"
            + (f" (in {s.container_file} from {s.sender})" if s.container_file else "")
            + f", loaded {s.loaded_at:%d/%m/%Y}"
            for s in list(self.forms.values())[:listed]
        )
        if listed is not None and len(self.forms) > listed:
            lines.append(f"  and {len(self.forms) - listed} more (summary.txt lists them all)")
        lines.append(f"Original files copied: {len(self.originals_copied)}.")
        for sid, name, when, why in self.originals_deleted:
            lines.append(f"  not copied: {name} (submission {sid}) was deleted on {when:%d/%m/%Y} ({why}).")
        if self.drafts:
            lines.append(f"Reply drafts that name them: {len(self.drafts)}.")
        return lines


def find_person(warehouse: Warehouse, outputs: Path, person: Person) -> Answer:
    found = found_everywhere(warehouse, person)
    ids = {f.submission_id for f in found if f.submission_id is not None}
    return Answer(found, submissions(warehouse, ids), drafts=drafts_naming(outputs, person))


def _safe(name: str) -> str:
    """A file name that stays inside the folder and opens on any system."""
    cleaned = re.sub(r"[^\w .()-]+", "_", name).strip(" .") or "file"
    return cleaned[:120]


def _rows(answer: Answer) -> list[list]:
    rows = []
    for f in sorted(answer.found, key=lambda f: (f.submission_id or 0, f.place.table, f.place.column, repr(f.keys))):
        s = answer.forms.get(f.submission_id)
        rows.append(
            [
                f.submission_id,
                s.form_type if s else None,
                s.source_file if s else None,
                s.container_file if s else None,
                f.place.table,
                f.place.column,
                f.place.what,
                f.value,
                s.loaded_at if s else None,
                s.sender if s else None,
                s.received_at if s else None,
                s.status if s else None,
            ]
        )
    return rows


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        # a value starting with = + - @ would be a formula in a spreadsheet: kept as text
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    return out.getvalue().encode("utf-8-sig")  # the byte-order mark: Excel then reads UTF-8


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Rows that name them"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(number, column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the sender wrote
            elif isinstance(value, dt.datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
    for letter, width in zip("ABCDEFGHIJKL", (11, 11, 34, 30, 18, 22, 36, 60, 18, 30, 18, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(warehouse: Warehouse, outputs: Path, answer: Answer, folder: Path) -> Answer:
    """Write the answer's folder (rows, originals, drafts, summary)."""
    private_dir(folder)
    rows = _rows(answer)
    write_atomically(folder / "rows.csv", _csv(rows))
    write_atomically(folder / "rows.xlsx", _xlsx(rows))
    deleted = deleted_originals(warehouse)
    copies = private_dir(folder / "originals")
    seen: set[str] = set()
    for s in answer.forms.values():
        for sha, name in ((s.sha256, s.source_file), (s.item_sha256, s.container_file)):
            if not sha or sha in seen:
                continue
            seen.add(sha)
            if sha in deleted:
                answer.originals_deleted.append((s.submission_id, name or sha, *deleted[sha]))
                continue
            source = archive_path(outputs / "archive", sha)
            if source.is_file():
                target = copies / f"{s.submission_id} {_safe(name or sha)}"
                write_atomically(target, source.read_bytes())
                answer.originals_copied.append(target)
    if answer.drafts:
        replies = private_dir(folder / "replies")
        for draft in answer.drafts:
            target = replies / _safe(str(draft.relative_to(outputs / "replies")).replace("/", " - "))
            shutil.copyfile(draft, target)
            target.chmod(0o600)
    answer.folder = folder
    write_atomically(folder / "summary.txt", ("\n".join(answer.summary()) + "\n").encode("utf-8"))
    return answer


def default_folder(outputs: Path, now: dt.datetime | None = None) -> Path:
    now = now or dt.datetime.now(dt.UTC)
    return outputs / "subject-access" / now.strftime("%Y-%m-%d %H%M%S")


def forms_counted(n: int) -> str:
    """ "1 form", "3 forms"."""
    return "1 form" if n == 1 else f"{n} forms"
