"""Quiescent, careful intake (issue 16): a file still being written waits for the next run;
links, pipes, sockets and devices are recorded and never opened or followed; names that are
not UTF-8 get a name that can be stored."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from pipeline.intake.inbox import InboxItem, attachments_of, list_inbox
from tests.fixtures import emails

PLAN = emails.golden("planning/toolkit_layout.docx")
MAX = 10_000_000


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


@pytest.fixture
def inbox(tmp_path) -> Path:
    (tmp_path / "inbox").mkdir()
    return tmp_path / "inbox"


def _within(seconds: float, work):
    """`work()`'s result, failing (not hanging) if it takes longer than `seconds` (a FIFO opened
    for reading blocks until a writer comes, which here would be never)."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds}s: something opened a pipe"
    return result["value"]


def _everything_read(items) -> list:
    return [a for item in items for a in attachments_of(item, MAX) or []]


def test_a_link_to_a_file_outside_the_inbox_is_refused_and_never_read(inbox, tmp_path):
    secret = tmp_path / "environ"
    secret.write_bytes(b"COFORMS_IMAP_PASSWORD=SECRET")
    (inbox / "form.docx").symlink_to(secret)
    good = tmp_path / "good.docx"
    good.write_bytes(PLAN)
    (inbox / "good-link.docx").symlink_to(good)  # even a link to a good form
    items = list_inbox(inbox)
    assert sorted(i.name for i in items) == ["form.docx", "good-link.docx"]
    assert all(i.refused is not None and i.refused.code.value == "not_a_file" for i in items)
    found = _everything_read(items)
    assert [(a.data, a.problem.code.value) for a in found] == [(b"", "not_a_file")] * 2
    assert all("link" in a.problem.message for a in found)
    assert not any(b"SECRET" in a.data or a.data == PLAN for a in found)


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(inbox, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"SECRET")
    (inbox / "form.docx").symlink_to(secret)
    item = InboxItem(inbox / "form.docx", 6)  # as listed while it was still an ordinary file
    (found,) = attachments_of(item, MAX)
    assert found.problem.code.value == "not_a_file" and b"SECRET" not in found.data


def test_a_linked_folder_is_refused_and_not_entered(inbox, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "form.docx").write_bytes(PLAN)
    (inbox / "shared").symlink_to(outside, target_is_directory=True)
    (inbox / "real-folder").mkdir()
    (inbox / "real-folder" / "plan.docx").write_bytes(PLAN)
    items = list_inbox(inbox)
    assert sorted((i.name, i.refused is not None) for i in items) == [("plan.docx", False), ("shared", True)]


def test_a_fifo_hangs_neither_listing_nor_reading(inbox):
    fifo = inbox / "form.docx"
    os.mkfifo(fifo)
    items = _within(5, lambda: list_inbox(inbox))
    assert [(i.name, i.refused.code.value) for i in items] == [("form.docx", "not_a_file")]
    (found,) = _within(5, lambda: attachments_of(items[0], MAX))
    assert found.problem.code.value == "not_a_file" and "pipe" in found.problem.message
    # and one that was an ordinary file when listed, a pipe when read
    (found,) = _within(5, lambda: attachments_of(InboxItem(fifo, 100), MAX))
    assert found.problem.code.value == "not_a_file"


def test_sockets_and_devices_are_refused(inbox):
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(inbox / "s.sock"))
        with contextlib.suppress(PermissionError):  # a twin of /dev/zero: reading it would never end
            os.mknod(inbox / "zero.docx", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        items = _within(5, lambda: list_inbox(inbox))
        assert items and all(i.refused is not None for i in items)
        found = _within(5, lambda: _everything_read(items))
        assert {a.problem.code.value for a in found} == {"not_a_file"} and all(a.data == b"" for a in found)
        assert any("socket" in a.problem.message for a in found)
    finally:
        sock.close()


def test_a_name_that_is_not_utf8_gets_a_storable_name(inbox):
    raw_path = os.fsencode(inbox) + b"/form-\xff.docx"
    with open(raw_path, "wb") as fh:
        fh.write(PLAN)
    (item,) = list_inbox(inbox)
    assert item.name.encode("utf-8") and item.name.startswith("form-") and item.name.endswith(".docx")
    (found,) = attachments_of(item, MAX)
    found.provenance.source_file.encode("utf-8")  # the warehouse stores UTF-8: must not raise
    assert found.data == PLAN


def test_a_non_utf8_name_of_an_email_is_storable_in_each_provenance(inbox):
    with open(os.fsencode(inbox) + b"/mail-\xe9.eml", "wb") as fh:
        fh.write(emails.form_email())
    (item,) = list_inbox(inbox)
    (found,) = attachments_of(item, MAX)
    assert found.provenance.container_file == item.name
    found.provenance.container_file.encode("utf-8")


def test_a_file_still_being_written_waits_for_the_next_run(inbox):
    (inbox / "fresh.docx").write_bytes(PLAN)
    (inbox / "settled.docx").write_bytes(PLAN)
    _age(inbox / "settled.docx", 60)
    assert [i.name for i in list_inbox(inbox, settle_seconds=5)] == ["settled.docx"]
    assert [i.name for i in list_inbox(inbox, settle_seconds=0)] == ["settled.docx", "fresh.docx"]
    assert [i.name for i in list_inbox(inbox)] == ["settled.docx", "fresh.docx"]  # the old call still works
    later = time.time() + 10
    assert [i.name for i in list_inbox(inbox, 5, now=later)] == ["settled.docx", "fresh.docx"]


def test_a_file_dated_far_in_the_future_is_not_left_waiting_forever(inbox):
    (inbox / "future.docx").write_bytes(PLAN)
    then = time.time() + 86_400 * 365
    os.utime(inbox / "future.docx", (then, then))
    assert [i.name for i in list_inbox(inbox, settle_seconds=5)] == ["future.docx"]


def test_hidden_files_are_skipped_and_subfolders_are_read_oldest_first(inbox):
    (inbox / ".gitkeep").write_bytes(b"")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "old.docx").write_bytes(PLAN)
    (inbox / "new.docx").write_bytes(PLAN)
    _age(inbox / "sub" / "old.docx", 120)
    _age(inbox / "new.docx", 60)
    assert [i.name for i in list_inbox(inbox, settle_seconds=5)] == ["old.docx", "new.docx"]


def test_fetched_mail_is_taken_by_the_run_that_follows_the_fetch(workdir, monkeypatch):
    """`coforms fetch` writes each message whole by atomic rename: the settling time must not
    hold it back (a fake mailbox stands in for the server; test_imap.py runs a real one)."""
    import pipeline.intake.imap as imap
    from pipeline.settings import Settings

    class Message:
        uid = "1"
        raw = emails.form_email()

    class Box:
        folder = type("Folders", (), {"exists": lambda self, _name: True})()

        def fetch(self, **_kwargs):
            return [Message()]

        def move(self, *_args):
            pass

        def logout(self):
            pass

    monkeypatch.setattr(imap, "_connect", lambda _settings: Box())
    settings = Settings(inbox=workdir / "inbox", outputs=workdir / "outputs", settle_seconds=5)
    assert imap.fetch_mail(settings).fetched == 1
    assert [i.name for i in list_inbox(settings.inbox, settings.settle_seconds)] == [
        imap.inbox_name(Message.raw, __import__("hashlib").sha256(Message.raw).hexdigest())
    ]


def test_a_fresh_file_that_stays_quiet_is_waited_for_once_and_taken(inbox):
    from pipeline.intake.inbox import settled_inbox

    (inbox / "just copied.docx").write_bytes(b"a whole form")
    waits = []
    taken = settled_inbox(inbox, 5, sleep=lambda seconds: (waits.append(seconds), _age_all(inbox, 6)))
    assert [item.name for item in taken] == ["just copied.docx"]
    assert len(waits) == 1 and 4 <= waits[0] <= 5  # until it is settle_seconds old, not longer


def test_a_file_that_changes_while_waited_for_is_left_for_the_next_run(inbox):
    from pipeline.intake.inbox import settled_inbox

    (inbox / "old.docx").write_bytes(b"a form")
    _age_all(inbox, 60)
    (inbox / "arriving.docx").write_bytes(b"the first half")

    def still_copying(_seconds):
        with (inbox / "arriving.docx").open("ab") as fh:
            fh.write(b" and more")

    assert [item.name for item in settled_inbox(inbox, 5, sleep=still_copying)] == ["old.docx"]


def test_no_wait_when_every_file_is_settled(inbox):
    from pipeline.intake.inbox import settled_inbox

    (inbox / "old.docx").write_bytes(b"a form")
    _age_all(inbox, 60)
    assert [i.name for i in settled_inbox(inbox, 5, sleep=lambda s: pytest.fail("waited"))] == ["old.docx"]


def _age_all(folder: Path, seconds: float) -> None:
    """Every file in `folder` last changed `seconds` ago."""
    then = time.time() - seconds
    for path in folder.iterdir():
        os.utime(path, (then, then))
