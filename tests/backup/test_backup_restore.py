"""`coforms backup` and `coforms restore` on a real deployment with an embedded (DuckDB) warehouse:
a restore into an empty folder passes `coforms check` with every view and original as they were;
a damaged backup is refused and writes nothing; secrets stay out; the run lock is respected."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from pipeline.backup.contents import SECRET_FILES, secret_fields
from pipeline.backup.manifest import MANIFEST, SIDECAR
from pipeline.store.database import HEAD_REVISION
from pipeline.store.warehouse import Warehouse
from tests.backup.deployment import COFORMS, accounts_rows, coforms, files_of, make_deployment, ok

# a value for every secret setting, none of which may appear anywhere in a backup
SECRETS = {
    "imap_password": "imap-pw-7Qx2vL9kTz",
    "imap_oauth2_token": "imap-token-Hf83Ksl02Pq",
    "smtp_password": "smtp-pw-Zp40Mcn1Wd",
    "m365_client_secret": "m365-secret-Yt62Lra8Ve",
    "web_oidc_client_secret": "oidc-secret-Bq19Xso5Nu",
}
KINDS = ("folder", "tar")
UNKNOWN = "Amira's notes.txt"  # a file in the outputs folder that coforms did not put there


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("deployment")
    make_deployment(workdir)
    return workdir


@pytest.fixture(scope="module")
def backups(deployment: Path) -> dict[str, tuple[Path, str]]:
    """A backup as a folder and as a .tar file, each with what the command said."""
    (deployment / "outputs" / UNKNOWN).write_text("put here by someone")
    made = {}
    for kind, name in (("folder", "backup"), ("tar", "backup.tar")):
        dest = deployment.parent / f"{deployment.name}-{name}"
        made[kind] = (dest, ok(coforms(deployment, "backup", str(dest), imap_user="coproduction", **SECRETS)))
    return made


def _views(target: Path | str) -> dict:
    with Warehouse(target, read_only=True) as warehouse:
        return warehouse.view_contents()


def _backup_bytes(dest: Path) -> dict[str, bytes]:
    if dest.is_dir():
        return files_of(dest)
    with tarfile.open(dest) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}


@pytest.mark.parametrize("kind", KINDS)
def test_a_restore_into_an_empty_folder_passes_check_with_every_view_and_original_identical(
    deployment, backups, kind, tmp_path
):
    dest, _said = backups[kind]
    restored = tmp_path / "restored"
    said = ok(coforms(deployment, "restore", str(dest), outputs=restored))
    assert f"Restored into {restored}" in said and f"warehouse at schema {HEAD_REVISION}" in said
    assert "Reports rewritten: exceptions.xlsx, voucher_reconciliation.xlsx, summary.html" in said

    assert "Everything that came in is accounted for" in ok(coforms(deployment, "check", outputs=restored))
    original = deployment / "outputs"
    assert _views(restored / "warehouse.duckdb") == _views(original / "warehouse.duckdb")
    audit = _views(restored / "warehouse.duckdb")["audit"]
    assert any("checked with the sender by phone" in repr(row) for row in audit)  # the admin's accept came back
    for folder in ("archive", "mail-ledger", "voucher_lines"):
        assert files_of(restored, folder) == files_of(original, folder), folder
    assert files_of(restored, "archive")  # the originals really are there
    assert accounts_rows(restored) == accounts_rows(original)
    for name in SECRET_FILES:  # left out of the backup: the admin puts it back from where secrets are kept
        assert not (restored / name).exists()
        assert f"Put back {name}" in said


def test_the_backup_has_a_manifest_of_every_file_that_sha256sum_checks(backups):
    dest, said = backups["folder"]
    manifest = json.loads((dest / MANIFEST).read_text())
    assert manifest["schema_revision"] == HEAD_REVISION
    assert manifest["warehouse"] == {"kind": "duckdb", "file": "outputs/warehouse.duckdb"}
    listed = {entry["path"] for entry in manifest["files"]}
    assert listed == set(files_of(dest)) - {MANIFEST, SIDECAR}
    assert {"outputs/web/accounts.sqlite", "settings.json"} <= listed
    assert any(path.startswith("outputs/archive/") for path in listed)
    assert any(path.startswith("outputs/mail-ledger/") for path in listed)
    # the sidecar is in sha256sum's own format: the manifest can be checked by hand
    check = subprocess.run(["sha256sum", "-c", SIDECAR], cwd=dest, capture_output=True, text=True)
    assert check.returncode == 0 and "manifest.json: OK" in check.stdout
    assert said.startswith(f"Backup written to {dest}: {len(listed)} files, ")
    assert f"warehouse at schema {HEAD_REVISION}." in said
    # what coforms does not know is named, not copied unseen (it could be a secret, or gigabytes)
    assert manifest["not_known"] == [UNKNOWN]
    assert f"Not in the backup (coforms does not know what they are): {UNKNOWN}" in said
    assert not any(UNKNOWN in path for path in listed)


@pytest.mark.parametrize("kind", KINDS)
def test_no_secret_is_in_the_backup(backups, kind):
    dest, said = backups[kind]
    everything = _backup_bytes(dest)
    for name, value in SECRETS.items():
        assert not any(value.encode() in data for data in everything.values()), name
    settings = json.loads(everything["settings.json"])
    assert settings["settings"]["imap_user"] == "coproduction"  # the other settings are there
    assert set(SECRETS) | {"warehouse_url"} <= set(settings["left_out"]) == set(secret_fields())
    assert not set(settings["left_out"]) & set(settings["settings"])
    for name in SECRET_FILES:  # a secret kept as a file in the outputs folder stays out too
        assert f"outputs/{name}" not in everything
        assert name in said.replace("\n", " ")


@pytest.mark.parametrize("kind", KINDS)
def test_the_backup_is_private_to_its_owner(backups, kind):
    dest, _said = backups[kind]
    paths = [dest, *dest.rglob("*")] if dest.is_dir() else [dest]
    for path in paths:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


# ---------------------------------------------------------------- damaged backups


def _damage_folder(backup: Path, how: str) -> str:
    """Damage a copy of a folder backup; what the refusal must name."""
    archived = sorted((backup / "outputs" / "archive").rglob("*"))[-1]
    name = archived.relative_to(backup).as_posix()
    if how == "changed_byte":
        data = bytearray(archived.read_bytes())
        data[len(data) // 2] ^= 0x01
        archived.write_bytes(bytes(data))
        return f"{name} is damaged (its checksum differs)"
    if how == "missing_file":
        archived.unlink()
        return f"{name} is missing"
    if how == "extra_file":
        (backup / "outputs" / "archive" / "00").mkdir()
        (backup / "outputs" / "archive" / "00" / "planted").write_bytes(b"not from the backup")
        return "outputs/archive/00/planted is not part of the backup"
    if how == "cut_short_file":
        (backup / "outputs" / "warehouse.duckdb").write_bytes(
            (backup / "outputs" / "warehouse.duckdb").read_bytes()[:4096]
        )
        return "outputs/warehouse.duckdb is damaged (it is cut short)"
    if how == "manifest_edited":
        manifest = backup / MANIFEST
        manifest.write_text(manifest.read_text().replace('"schema_revision": "', '"schema_revision": "9'))
        return f"its {MANIFEST} has been changed or damaged since the backup was made"
    if how == "manifest_checksum_missing":
        (backup / SIDECAR).unlink()
        return f"its {SIDECAR} (the manifest's checksum) is missing"
    if how == "manifest_missing":
        (backup / MANIFEST).unlink()
        return f"it has no {MANIFEST}"
    raise AssertionError(how)


FOLDER_DAMAGE = (
    "changed_byte",
    "missing_file",
    "extra_file",
    "cut_short_file",
    "manifest_edited",
    "manifest_checksum_missing",
    "manifest_missing",
)


@pytest.mark.parametrize("how", FOLDER_DAMAGE)
def test_a_damaged_folder_backup_is_refused_naming_the_damage_and_nothing_is_written(
    deployment, backups, how, tmp_path
):
    damaged = tmp_path / "damaged"
    shutil.copytree(backups["folder"][0], damaged)
    expected = _damage_folder(damaged, how)
    restored = tmp_path / "restored"
    restored.mkdir()
    proc = coforms(deployment, "restore", str(damaged), outputs=restored)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Not restored: " in proc.stderr and expected in proc.stderr and "use another backup" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(restored.iterdir()) == []


def _damage_tar(backup: Path, how: str) -> str:
    data = backup.read_bytes()
    if how == "cut_short":
        backup.write_bytes(data[: len(data) // 2 + 100])
        return "is cut short or damaged (not a complete .tar file)"
    if how == "changed_byte":
        with tarfile.open(backup) as tar:
            member = next(m for m in tar.getmembers() if m.name.startswith("outputs/archive/"))
        position = member.offset_data + member.size // 2
        backup.write_bytes(data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :])
        return f"{member.name} is damaged (its checksum differs)"
    if how == "end_missing":  # cut off where a member starts: the manifest (written last) is gone
        with tarfile.open(backup) as tar:
            manifest = tar.getmember(MANIFEST)
        backup.write_bytes(data[: manifest.offset])
        return f"it has no {MANIFEST}"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ("cut_short", "changed_byte", "end_missing"))
def test_a_damaged_tar_backup_is_refused_naming_the_damage_and_no_outputs_folder_is_made(
    deployment, backups, how, tmp_path
):
    damaged = tmp_path / "damaged.tar"
    shutil.copyfile(backups["tar"][0], damaged)
    expected = _damage_tar(damaged, how)
    restored = tmp_path / "restored"
    proc = coforms(deployment, "restore", str(damaged), outputs=restored)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Not restored: " in proc.stderr and expected in proc.stderr, proc.stderr
    assert not restored.exists()


def test_a_restore_into_a_folder_that_is_not_empty_is_refused_and_leaves_it_as_it_was(deployment, backups, tmp_path):
    restored = tmp_path / "restored"
    restored.mkdir()
    (restored / "notes.txt").write_text("the admin's own file")
    proc = coforms(deployment, "restore", str(backups["tar"][0]), outputs=restored)
    assert proc.returncode == 1
    assert f"Not restored: the outputs folder {restored} is not empty (it holds notes.txt)" in proc.stderr
    assert files_of(restored) == {"notes.txt": b"the admin's own file"}


def test_a_backup_is_refused_into_a_folder_that_is_not_empty_a_compressed_file_or_the_outputs_folder(
    deployment, tmp_path
):
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.txt").write_text("x")
    proc = coforms(deployment, "backup", str(used))
    assert proc.returncode == 1 and f"No backup made: {used} is not an empty folder" in proc.stderr
    assert files_of(used) == {"old.txt": b"x"}
    proc = coforms(deployment, "backup", str(tmp_path / "backup.tar.gz"))
    assert proc.returncode == 1 and "give a name ending in .tar, or a folder" in proc.stderr
    assert not list(tmp_path.glob("*backup.tar*"))
    inside = deployment / "outputs" / "backups" / "today"
    proc = coforms(deployment, "backup", str(inside))
    assert proc.returncode == 1 and "is inside the outputs folder" in proc.stderr
    assert not inside.parent.exists()


# ---------------------------------------------------------------- the run lock


def test_a_backup_says_busy_while_a_run_holds_the_lock_and_makes_nothing(deployment, tmp_path):
    from pipeline.store.lock import exclusive_run

    dest = tmp_path / "backup.tar"
    with exclusive_run(deployment / "outputs", 0):
        proc = coforms(deployment, "backup", str(dest), lock_wait_seconds="0")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "is working on" in proc.stderr and "no backup was made" in proc.stderr
    assert not dest.exists() and not list(tmp_path.iterdir())


def test_a_backup_waits_for_the_run_holding_the_lock_then_copies(deployment, tmp_path):
    from pipeline.store.lock import exclusive_run

    dest = tmp_path / "backup"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFORMS_")}
    env.update(COFORMS_OUTPUTS=str(deployment / "outputs"), COFORMS_LOCK_WAIT_SECONDS="120")
    command = [COFORMS, "backup", str(dest)]
    with exclusive_run(deployment / "outputs", 0):
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        still_waiting = proc.poll() is None
    out, err = proc.communicate(timeout=300)
    assert still_waiting, out + err  # it could not finish while the lock was held
    assert proc.returncode == 0, out + err
    assert (dest / MANIFEST).exists()


def test_a_restore_says_busy_while_a_run_holds_the_folder_and_writes_nothing(deployment, backups, tmp_path):
    from pipeline.store.lock import exclusive_run

    restored = tmp_path / "restored"
    with exclusive_run(restored, 0):
        proc = coforms(deployment, "restore", str(backups["tar"][0]), outputs=restored, lock_wait_seconds="0")
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert f"A coforms run is working on {restored}" in proc.stderr and "nothing was restored" in proc.stderr
        assert [p.name for p in restored.iterdir()] == [".coforms.lock"]  # the run's, left alone


def test_a_backup_that_changes_while_it_is_restored_is_refused_and_leaves_nothing(backups, tmp_path, monkeypatch):
    """The files are checked twice: before anything is written, and again as they are copied in."""
    from pipeline.backup import restore
    from pipeline.backup.containers import FolderReader
    from pipeline.backup.errors import BackupDamaged
    from pipeline.settings import Settings

    reads: dict[str, int] = {}

    class ChangingMeanwhile(FolderReader):
        def open(self, path):
            reads[path] = reads.get(path, 0) + 1
            if path == "outputs/warehouse.duckdb" and reads[path] == 2:  # its copy, after the check
                tampered = tmp_path / "tampered"
                tampered.write_bytes(b"not the warehouse")
                return open(tampered, "rb")
            return super().open(path)

    monkeypatch.chdir(tmp_path)  # no coforms.toml of the checkout
    monkeypatch.setattr(restore, "reader_for", ChangingMeanwhile)
    restored = tmp_path / "restored"
    settings = Settings(inbox=tmp_path / "inbox", outputs=restored)
    with pytest.raises(BackupDamaged, match="outputs/warehouse.duckdb changed while it was being restored"):
        restore.restore_backup(settings, backups["folder"][0])
    assert reads["outputs/warehouse.duckdb"] == 2
    assert not restored.exists()
