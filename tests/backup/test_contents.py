"""What a backup knows of the outputs folder's entries."""

from __future__ import annotations

from pipeline.backup.contents import unknown_entries


def test_the_repositorys_gitkeep_is_not_named_as_unknown(tmp_path):
    (tmp_path / ".gitkeep").write_text("")
    (tmp_path / "archive").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    assert unknown_entries(tmp_path) == ["notes.txt"]
