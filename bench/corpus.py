"""A reproducible mixed corpus of filled forms for the benchmark: all four forms as .docx,
.xlsx, text PDF (printed by LibreOffice), fillable PDF (filled with pypdf) and .eml, about one
in ten with a problem. Same seed, same files."""

from __future__ import annotations

import copy
import datetime as dt
import random
import shutil
import subprocess
import tempfile
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

from pipeline.forms.spec import all_specs
from pipeline.templates import FILE_NAMES, write_templates
from pipeline.templates.outline import outline
from tests.fixtures import forms_data as fd
from tests.fixtures.build_golden import (
    evaluation_docx,
    evaluation_xlsx,
    monitoring_docx,
    monitoring_xlsx,
    planning_docx,
    planning_xlsx,
    voucher_docx,
    voucher_xlsx,
)
from tests.fixtures.fill_templates import answers_for, fill_pdf
from tests.fixtures.wordml import ENCODINGS

FORMS = ("planning", "evaluation", "monitoring", "voucher")
FORM_WEIGHTS = (1, 4, 3, 2)
FORMATS = ("docx", "xlsx", "pdf", "fillable", "eml")
FORMAT_WEIGHTS = (35, 20, 20, 15, 10)
FIRST_NAMES = ["Grace", "Peter", "Siobhan", "Ahmed", "Lucia", "Tomasz", "Mei", "Kofi", "Aisha", "John", "Fatima"]
LAST_NAMES = ["Adeyemi", "Novak", "Kelly", "Rahman", "Rossi", "Wojcik", "Chen", "Mensah", "Begum", "Smith", "Ali"]


def _data(form: str, i: int, rng: random.Random, bad: bool) -> dict:
    project = f"Co-production project {i % 97}"
    day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 600))
    if form == "planning":
        d = copy.deepcopy(fd.PLANNING)
        d.update(project_name=project, date=day, date_text=day.strftime("%d/%m/%Y"))
        if bad:
            d["date_text"] = "31/02/2025"
        return d
    if form == "evaluation":
        d = fd.evaluation(i % 11, project_name=project, date=day, date_text=day.strftime("%d/%m/%Y"))
        if bad:
            d["scores"]["inclusivity.2"] = ["Agree", "Disagree"]
        return d
    if form == "monitoring":
        choice = lambda name, n: [rng.choice(n)]  # noqa: E731
        d = fd.monitoring(
            age_band=choice("a", ["18-24", "25-34", "45-54", "65-74", "75-84"]),
            gender=choice("g", ["Woman", "Man", "Non-binary"]),
            ethnicity=choice("e", ["Indian", "Caribbean", "African", "Irish", "Roma", "Arab"]),
            project_name=project,
            date=day,
            date_text=day.strftime("%d/%m/%Y"),
        )
        if bad:
            d["age_band"] = ["25-34", "35-44"]
        return d
    lines = []
    for k in range(rng.randrange(3, 12)):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}-{i}"
        when = day + dt.timedelta(days=7 * k)
        amount = Decimal(rng.choice(["10.00", "15.00", "20.00", "12.50"]))
        lines.append(
            (
                name,
                when,
                when.strftime("%d/%m/%Y"),
                f"Session {k + 1}",
                "2 hours",
                120,
                f"£{amount}",
                amount,
                name.split()[0] if not (bad and k == 0) else "",
            )
        )
    total = sum(line[7] for line in lines)
    return fd.voucher(project_name=project, lines=lines, total_text=f"£{total:.2f}")


def _docx(form: str, d: dict, path: Path, rng: random.Random) -> None:
    if form == "planning":
        planning_docx(d, path)
    elif form == "evaluation":
        evaluation_docx(d, path, rng.choice(ENCODINGS))
    elif form == "monitoring":
        monitoring_docx(d, path, rng.choice(["glyph", "sdt", "wingdings"]))
    else:
        voucher_docx(d, path, image_signature=False)


def _xlsx(form: str, d: dict, path: Path) -> None:
    {
        "planning": planning_xlsx,
        "evaluation": evaluation_xlsx,
        "monitoring": monitoring_xlsx,
        "voucher": lambda d, p: voucher_xlsx(d, p, all_numeric=True),
    }[form](d, path)


PDFS_PER_CALL = 100  # LibreOffice given hundreds of documents at once converted a few hundred and still exited 0


class CorpusShortfall(Exception):
    """LibreOffice did not make every PDF it was asked for."""


def print_to_pdf(documents: list[Path], outdir: Path, profile: Path, per_call: int = PDFS_PER_CALL) -> list[Path]:
    """Convert documents to PDFs in outdir (same names, .pdf), `per_call` documents per LibreOffice
    call, and check that every one is there: soffice exits 0 even when it skipped some. The
    documents missing after a call are tried once more on their own; any still missing then is a
    CorpusShortfall naming them."""
    wanted = [outdir / f"{doc.stem}.pdf" for doc in documents]
    missing = documents
    for attempt in range(2):
        for start in range(0, len(missing), per_call):
            subprocess.run(
                [
                    "soffice",
                    f"-env:UserInstallation={profile.as_uri()}",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(outdir),
                    *map(str, missing[start : start + per_call]),
                ],
                check=True,
                capture_output=True,
                timeout=1800,
            )
        missing = [doc for doc in documents if not (outdir / f"{doc.stem}.pdf").exists()]
        if not missing:
            return wanted
        if attempt == 0:
            print(f"  LibreOffice skipped {len(missing)} of {len(documents)} documents; trying those again", flush=True)
    names = ", ".join(doc.name for doc in missing[:10]) + (", ..." if len(missing) > 10 else "")
    raise CorpusShortfall(
        f"LibreOffice made {len(documents) - len(missing)} of the {len(documents)} PDFs asked for "
        f"(tried twice); {len(missing)} missing: {names}"
    )


def make_corpus(n: int, folder: Path, seed: int = 2025, formats: tuple[str, ...] = FORMATS) -> Path:
    """Write n forms into folder (kept between runs: the same n and seed give the same files)."""
    done = folder / ".complete"
    if done.exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    weights = [FORMAT_WEIGHTS[FORMATS.index(f)] for f in formats]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_templates(tmp / "templates")
        to_pdf = tmp / "to_pdf"
        to_pdf.mkdir()
        for i in range(n):
            form = rng.choices(FORMS, FORM_WEIGHTS)[0]
            fmt = rng.choices(formats, weights)[0]
            d = _data(form, i, rng, bad=rng.random() < 0.1)
            name = f"{i:05d}-{form}"
            if fmt == "docx":
                _docx(form, d, folder / f"{name}.docx", rng)
            elif fmt == "xlsx":
                _xlsx(form, d, folder / f"{name}.xlsx")
            elif fmt == "pdf":
                _docx(form, d, to_pdf / f"{name}.docx", rng)
            elif fmt == "fillable":
                fill_pdf(
                    tmp / "templates" / f"{FILE_NAMES[form]}.pdf",
                    outline(all_specs()[form]),
                    answers_for(form, d),
                    folder / f"{name}.pdf",
                    generic_names=rng.random() < 0.5,
                )
            else:
                _docx(form, d, tmp / "attachment.docx", rng)
                msg = EmailMessage()
                msg["From"] = f"staff{i % 13}@camden.gov.uk"
                msg["To"] = "coproduction@camden.gov.uk"
                msg["Subject"] = f"{form} form {i}"
                msg["Date"] = "Mon, 23 Jun 2025 09:15:00 +0100"
                msg["Message-ID"] = f"<bench-{seed}-{i}@camden.gov.uk>"
                msg.set_content("Form attached.")
                msg.add_attachment(
                    (tmp / "attachment.docx").read_bytes(),
                    maintype="application",
                    subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                    filename=f"{form}.docx",
                )
                (folder / f"{name}.eml").write_bytes(msg.as_bytes())
        printed = sorted(to_pdf.iterdir())
        if printed:  # "printed" to PDF by LibreOffice, as staff do
            print_to_pdf(printed, folder, tmp / "profile", PDFS_PER_CALL)
    done.write_text(f"{n} forms, seed {seed}\n")
    return folder
