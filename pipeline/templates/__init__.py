"""`coforms templates`: the official blank forms, generated from the form specs."""

from __future__ import annotations

from pathlib import Path

from pipeline.templates.excel import write_xlsx
from pipeline.templates.outline import outlines
from pipeline.templates.pdf import write_pdf
from pipeline.templates.word import write_docx

FILE_NAMES = {
    "planning": "Co-production project planning template",
    "evaluation": "Project evaluation template",
    "monitoring": "Co-production monitoring form",
    "voucher": "Attendance and voucher collection",
}
EXCEL_FORMS = ("voucher", "monitoring")


def write_templates(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for form_type, items in outlines().items():
        base = out_dir / FILE_NAMES[form_type]
        write_docx(items, base.with_suffix(".docx"))
        write_pdf(items, base.with_suffix(".pdf"))
        written += [base.with_suffix(".docx"), base.with_suffix(".pdf")]
        if form_type in EXCEL_FORMS:
            write_xlsx(items, base.with_suffix(".xlsx"))
            written.append(base.with_suffix(".xlsx"))
    return written
