"""Backup and restore with a PostgreSQL warehouse (a real throwaway server, tests/postgres.py): the
warehouse goes into the backup as a pg_dump, and back into a new, empty database by pg_restore."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from pipeline.backup.errors import BackupFailed
from pipeline.backup.warehouse_copy import PG_DUMP_FILE, client_tool
from pipeline.settings import Settings
from pipeline.store.database import HEAD_REVISION
from pipeline.store.warehouse import Warehouse
from tests.backup.deployment import coforms, files_of, make_deployment, ok
from tests.postgres import new_database

pytestmark = pytest.mark.skipif(client_tool("pg_dump") is None, reason="PostgreSQL's pg_dump is not installed")
# the test server trusts every local login, so any password is accepted: one that must not be in the backup
PASSWORD = "pg-secret-Kd73Hs0aQm"


def _with_password(url: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")


@pytest.fixture(scope="module")
def deployment(postgres_server, tmp_path_factory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("pg-deployment")
    url = _with_password(new_database(postgres_server))
    make_deployment(workdir, warehouse_url=url)
    return workdir, url


@pytest.fixture(scope="module")
def backup(deployment) -> tuple[Path, str]:
    workdir, url = deployment
    dest = workdir.parent / "pg-backup.tar"
    return dest, ok(coforms(workdir, "backup", str(dest), warehouse_url=url))


def _views(url: str) -> dict:
    with Warehouse(url, read_only=True) as warehouse:
        return warehouse.view_contents()


def test_a_postgresql_backup_restored_into_a_new_database_passes_check_with_every_view_identical(
    postgres_server, deployment, backup, tmp_path
):
    workdir, url = deployment
    dest, said = backup
    assert f"warehouse at schema {HEAD_REVISION} ({PG_DUMP_FILE}, a pg_dump of " in said
    with tarfile.open(dest) as tar:
        everything = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}
    assert PG_DUMP_FILE in everything
    assert not any(PASSWORD.encode() in data for data in everything.values())
    assert json.loads(everything["manifest.json"])["warehouse"]["kind"] == "postgresql"

    target = _with_password(new_database(postgres_server))
    restored = tmp_path / "restored"
    said = ok(coforms(workdir, "restore", str(dest), outputs=restored, warehouse_url=target))
    assert f"warehouse at schema {HEAD_REVISION}" in said and "Reports rewritten" in said
    checked = ok(coforms(workdir, "check", outputs=restored, warehouse_url=target))
    assert "Everything that came in is accounted for" in checked
    assert _views(target) == _views(url)
    assert files_of(restored, "archive") == files_of(workdir / "outputs", "archive")


def test_a_restore_into_a_database_that_is_not_empty_is_refused(deployment, backup, tmp_path):
    workdir, url = deployment
    restored = tmp_path / "restored"
    before = _views(url)
    proc = coforms(workdir, "restore", str(backup[0]), outputs=restored, warehouse_url=url)
    assert proc.returncode == 1
    assert "Not restored: the warehouse database" in proc.stderr and "is not empty" in proc.stderr
    assert PASSWORD not in proc.stderr
    assert not restored.exists()
    assert _views(url) == before


def test_a_postgresql_backup_is_not_restored_without_a_database_to_put_it_in(deployment, backup, tmp_path):
    workdir, _url = deployment
    proc = coforms(workdir, "restore", str(backup[0]), outputs=tmp_path / "restored")
    assert proc.returncode == 1 and "no warehouse_url is set" in proc.stderr
    assert not (tmp_path / "restored").exists()


def test_without_pg_dump_the_backup_says_what_to_install(deployment, tmp_path, monkeypatch):
    from pipeline.backup import make, warehouse_copy

    workdir, url = deployment
    monkeypatch.setattr(warehouse_copy, "client_tool", lambda name: None)
    settings = Settings(inbox=workdir / "inbox", outputs=workdir / "outputs", warehouse_url=url)
    with pytest.raises(BackupFailed, match="install the PostgreSQL client") as refused:
        make.make_backup(settings, tmp_path / "backup")
    assert "pg_dump" in str(refused.value)
    assert not (tmp_path / "backup").exists()
