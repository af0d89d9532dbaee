"""A run over paper: a scanned voucher sheet loads, marked as read by OCR; a scan with a mark the
reader is unsure of is held, and the picture its exception names is where it says."""

from __future__ import annotations

import shutil

from pipeline.runtime import run
from tests.conftest import GOLDEN, query_warehouse

SCANS = GOLDEN.parent / "golden_scans"


def test_a_run_loads_a_clean_scan_and_holds_a_doubtful_one_with_the_picture_of_the_doubt(settings, workdir):
    shutil.copy(SCANS / "voucher" / "clean_300dpi.png", settings.inbox / "Vouchers scanned.png")
    shutil.copy(SCANS / "evaluation" / "hand_ticks_pdf.pdf", settings.inbox / "Evaluation from the event.pdf")
    run.run_pipeline(settings)

    statuses = dict(query_warehouse(workdir, "SELECT source_file, status FROM submissions"))
    assert statuses == {"Vouchers scanned.png": "loaded", "Evaluation from the event.pdf": "held"}
    assert query_warehouse(workdir, "SELECT DISTINCT source FROM voucher_lines") == [("ocr",)]

    held = query_warehouse(
        workdir,
        "SELECT e.message FROM exceptions e JOIN submissions s USING (submission_id) "
        "WHERE s.source_file = 'Evaluation from the event.pdf' AND e.code = 'ocr_unconfirmed'",
    )
    assert held
    for (message,) in held:
        picture = message.split("The picture of it: ")[1].rstrip(".")
        path = settings.outputs / picture
        assert path.is_file() and path.read_bytes().startswith(b"\x89PNG"), picture
    warned = query_warehouse(
        workdir,
        "SELECT DISTINCT s.source_file FROM exceptions e JOIN submissions s USING (submission_id) "
        "WHERE e.code = 'ocr_read'",
    )
    assert sorted(warned) == [("Evaluation from the event.pdf",), ("Vouchers scanned.png",)]
