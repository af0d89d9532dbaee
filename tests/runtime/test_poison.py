"""The poison test (issue 16): every kind of bad file found so far, in one inbox with good forms.

`coforms run` must exit 0, load the good forms, record every bad file with a problem that
names it, stay within the read limits, account for everything (`coforms check`), leave the
inbox empty, and the next run must change nothing. Each bad file stands for a real one
(apache/poi, apache/tika, pdf.js test files, or crafted mail) that once stopped every run, hung
it or lost a form; the builders say which.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.admin.check import check
from pipeline.settings import Settings
from tests.conftest import GOLDEN, coforms_env, resaved
from tests.fixtures import emails
from tests.read import crafted

COFORMS = str(Path(sys.executable).with_name("coforms"))
PARSE_SECONDS = 30  # the run's limit per file here: a file that hangs costs this, never the run
GOOD = {  # inbox name -> form it is
    "vouchers.docx": "voucher/table_total_row.docx",
    "plan.xlsx": "planning/sheet.xlsx",
    "evaluation.pdf": "evaluation/pdf_inline_options_sdt.pdf",
}


def _plan(tag: str) -> bytes:
    """The planning form in bytes of its own (as another copy saved again): read, not a duplicate."""
    return resaved((GOLDEN / "planning" / "toolkit_layout.docx").read_bytes(), tag)


def _form_email(tag: str, subject: str = "Plan") -> bytes:
    return emails.attach(emails.message(subject=subject), _plan(tag), f"Plan {tag}.docx").as_bytes()


def _bad_files(secret: Path) -> dict[str, bytes | None]:
    """Inbox name -> bytes (None: made specially, see _fill_inbox)."""
    bad_form_email = emails.form_email(
        subject="Vouchers", form="voucher/bad_amount_cap_unsigned_unit.docx", name="Vouchers.docx"
    )
    files: dict[str, bytes | None] = {
        # mail that stopped every run
        "date in year 9999.eml": emails.with_header(_form_email("9999"), b"Date", b"Fri, 31 Dec 9999 23:59:59 -2359"),
        "cr lf in the sender.eml": emails.with_header(
            _form_email("crlf"), b"From", b"=?utf-8?q?Jo=0D=0ABcc=3A_x?= <jo@example.org>"
        ),
        "nested a thousand deep.eml": emails.deeply_nested_mime(1000),
        "cr lf in the subject.eml": emails.with_header(
            emails.with_header(bad_form_email, b"Subject", b"=?utf-8?q?Vouchers=0D=0ABcc=3A_evil=40example.org?="),
            b"Message-ID",
            b"<a\r\n Bcc: evil@example.org>",
        ),
        # mail that lost forms
        "two emails.mbox": emails.mbox(_form_email("first", "First"), _form_email("second", "Second")),
        "forwarded as a file.eml": emails.email_attached_as_file(_form_email("forwarded")),
        # files that broke, hung or ballooned a reader
        "self drawing form.pdf": crafted.self_drawing_xobject_pdf(2),  # the 867-byte recursive Form XObject
        "fan out.pdf": crafted.fan_out_xobjects_pdf(),
        "text boxes 40 deep.docx": crafted.nested_text_boxes_docx(40),
        "tiny cells.docx": crafted.tiny_cells_docx(60),  # 60 MB of document.xml
        "shared strings.xlsx": crafted.shared_strings_bomb_xlsx(),  # poi poc-shared-strings.xlsx
        "binary workbook.xlsb": crafted.xlsb(),
        "protected.doc": (Path(__file__).parents[1] / "read" / "data" / "password_libreoffice.doc").read_bytes(),
        "pages counted twice.pdf": crafted.page_counted_twice_pdf(),
        # the inbox itself
        "link to secrets.docx": None,  # a symlink to a file the service can read
        "a pipe.docx": None,  # a FIFO: reading it would wait for ever
        os.fsdecode(b"plan \xff.docx"): _plan("not utf-8"),  # a name that is not UTF-8: a good form all the same
    }
    if _have_extract_msg():  # make run and make test install it (the [dev] extra)
        files["no sender.msg"] = emails.outlook_msg(
            sender_name=None, sender_email=None, attachments=[("Plan.docx", _plan("msg"))]
        )  # poi blank.msg
        files["damaged.msg"] = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00garbage" * 100  # poi clusterfuzz .msg
    return files


def _have_extract_msg() -> bool:
    try:
        import extract_msg  # noqa: F401
    except ImportError:
        return False
    return True


def _fill_inbox(inbox: Path, secret: Path) -> set[str]:
    inbox.mkdir(parents=True, exist_ok=True)
    for name, form in GOOD.items():
        shutil.copy(GOLDEN / form, inbox / name)
    bad = _bad_files(secret)
    for name, data in bad.items():
        if name == "link to secrets.docx":
            os.symlink(secret, inbox / name)
        elif name == "a pipe.docx":
            os.mkfifo(inbox / name)
        else:
            (inbox / name).write_bytes(data)
    return set(bad)


def _run(workdir: Path) -> subprocess.CompletedProcess:
    env = coforms_env(workdir / "inbox", workdir / "outputs", workers=2, parse_seconds=PARSE_SECONDS)
    return subprocess.run([COFORMS, "run"], cwd=workdir, env=env, capture_output=True, text=True, timeout=900)


def _submissions(workdir: Path) -> list[tuple]:
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT s.source_file, s.container_file, s.status, s.form_type, "
            "list(e.code ORDER BY e.code) FILTER (e.code IS NOT NULL) "
            "FROM submissions s LEFT JOIN exceptions e USING (submission_id) GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("poison")
    secret = workdir / "secret.env"
    secret.write_text("COFORMS_IMAP_PASSWORD=hunter2\n")
    bad = _fill_inbox(workdir / "inbox", secret)
    started = time.monotonic()
    first = _run(workdir)
    elapsed = time.monotonic() - started
    return workdir, bad, first, elapsed


def test_the_run_exits_0_and_the_inbox_is_empty(poisoned):
    workdir, _bad, first, _elapsed = poisoned
    assert first.returncode == 0, first.stderr[-3000:]
    assert list((workdir / "inbox").iterdir()) == []


def test_the_good_forms_load(poisoned):
    workdir, *_ = poisoned
    read = {row[0]: (row[2], row[3]) for row in _submissions(workdir)}
    # loaded, or superseded by a later planning form of the same project (the correction rule)
    assert [read[name] for name in GOOD] == [
        ("loaded", "voucher"),
        ("superseded", "planning"),
        ("loaded", "evaluation"),
    ]
    assert read["plan \ufffd.docx"][1] == "planning"  # its name made storable, its form read


def test_every_bad_file_is_recorded_with_a_problem(poisoned):
    workdir, bad, *_ = poisoned
    rows = _submissions(workdir)
    by_inbox_file = {}
    for source, container, status, _form, codes in rows:
        by_inbox_file.setdefault(container or source, []).append((source, status, codes or []))
    for name in bad - {os.fsdecode(b"plan \xff.docx")}:
        recorded = by_inbox_file.get(name) or by_inbox_file.get(
            name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        )
        assert recorded, f"{name} is not in the warehouse"
        # every record of a bad file either names its problem or is a form read from it
        for source, status, codes in recorded:
            assert codes or status in ("loaded", "superseded"), f"{name}: {source} is {status} with no problem"
    codes = {code for *_, codes in rows for code in codes or []}
    assert {"not_a_file", "corrupt_file", "too_large", "unsupported_format", "encrypted"} <= codes


def test_forms_inside_hostile_mail_are_read_not_lost(poisoned):
    workdir, *_ = poisoned
    forms_read = [row[1] for row in _submissions(workdir) if row[3] == "planning" and row[1]]
    for container in ("date in year 9999.eml", "cr lf in the sender.eml", "forwarded as a file.eml"):
        assert forms_read.count(container) == 1, container
    assert forms_read.count("two emails.mbox") == 2  # both emails' forms, not only the first
    if _have_extract_msg():
        assert forms_read.count("no sender.msg") == 1


def test_nothing_secret_is_archived_and_no_reply_header_is_injected(poisoned):
    workdir, *_ = poisoned
    archived = b"".join(p.read_bytes() for p in (workdir / "outputs" / "archive").rglob("*") if p.is_file())
    assert b"hunter2" not in archived
    drafts = list((workdir / "outputs" / "replies").rglob("*.eml"))
    assert drafts, "the held voucher sheet gets a reply draft"
    for draft in drafts:
        head = draft.read_bytes().split(b"\n\n", 1)[0]
        assert not any(line.lower().startswith(b"bcc:") for line in head.splitlines())


def test_within_the_limits_and_everything_accounted_for(poisoned):
    workdir, bad, _first, elapsed = poisoned
    # one file's limit at most per file, with the run's own work besides: nothing hung
    assert elapsed < PARSE_SECONDS * 3
    report = check(Settings(inbox=workdir / "inbox", outputs=workdir / "outputs"))
    assert report.ok, report.violations


def test_the_next_run_is_a_no_op(poisoned):
    workdir, *_ = poisoned
    before = _submissions(workdir)
    again = _run(workdir)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _submissions(workdir) == before
