"""A backup is a folder or one .tar file (uncompressed: the originals are mostly compressed
already). Writers hash each file as they write it; readers list what is there and give each
file's bytes, refusing anything a backup never holds (links, devices, paths leading outside)."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
from contextlib import suppress
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pipeline.backup.errors import BackupDamaged, BackupFailed
from pipeline.backup.manifest import FileEntry
from pipeline.files import PRIVATE_DIR, PRIVATE_FILE, fsync_path, syncfs

CHUNK = 1 << 20


def is_tar(path: Path) -> bool:
    return path.name.lower().endswith(".tar")


def safe_relative(path: str) -> bool:
    """A path that stays inside the folder it is put in."""
    pure = PurePosixPath(path)
    return (
        bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path and "" not in pure.parts
    )


def fsync_tree(root: Path) -> None:
    """Every file and folder under root on the disk, once all are written. Linux's syncfs does it
    for the whole disk at once (about four times faster than a fsync per file for thousands of
    originals, measured here); elsewhere, file by file."""
    if syncfs(root):
        return
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fsync_path(Path(folder) / name)
        fsync_path(Path(folder))


class _Hashing:
    """A file object that hashes what is read through it."""

    def __init__(self, fh: BinaryIO):
        self.fh, self.digest, self.size = fh, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def copy_hashing(source: BinaryIO, target: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: source.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
        target.write(chunk)
    return size, digest.hexdigest()


def _open_regular(path: Path) -> BinaryIO:
    fh = open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")  # noqa: SIM115 (returned open; never a link)
    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
        fh.close()
        raise BackupFailed(f"{path} is not an ordinary file: it cannot be backed up.")
    return fh


# ---------------------------------------------------------------- writing


class FolderWriter:
    """Files written into a new (or empty) folder; the manifest, written last, marks it complete."""

    def __init__(self, dest: Path):
        self.dest = dest
        self.created = not dest.exists()
        if not self.created and (not dest.is_dir() or any(dest.iterdir())):
            raise BackupFailed(f"{dest} is not an empty folder: give a new folder (or an empty one) for the backup.")
        dest.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        dest.chmod(PRIVATE_DIR)

    def _target(self, path: str) -> BinaryIO:
        target = self.dest / path
        for parent in reversed(target.relative_to(self.dest).parents[:-1]):
            (self.dest / parent).mkdir(mode=PRIVATE_DIR, exist_ok=True)
        return open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), "wb")

    def add_file(self, path: str, source: Path) -> FileEntry:
        with _open_regular(source) as src, self._target(path) as out:
            size, sha = copy_hashing(src, out)
        return FileEntry(path, size, sha)

    def add_bytes(self, path: str, data: bytes) -> FileEntry:
        with self._target(path) as out:
            out.write(data)
        return FileEntry(path, len(data), hashlib.sha256(data).hexdigest())

    def finish(self) -> None:
        fsync_tree(self.dest)

    def abort(self) -> None:
        if self.created:
            shutil.rmtree(self.dest, ignore_errors=True)
            return
        for entry in self.dest.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


class TarWriter:
    """One .tar file, written under a temporary name beside DEST and renamed when complete."""

    def __init__(self, dest: Path):
        if dest.exists() or dest.is_symlink():
            raise BackupFailed(f"{dest} exists already: give the name of a new .tar file for the backup.")
        if not dest.parent.is_dir():
            raise BackupFailed(f"There is no folder {dest.parent} to write {dest.name} in.")
        self.dest = dest
        self.partial = dest.with_name(f".{dest.name}.partial")
        self.partial.unlink(missing_ok=True)  # left by a backup that was stopped
        self.fh = open(os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), "wb")  # noqa: SIM115
        self.tar = tarfile.open(fileobj=self.fh, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115 (closed by finish)

    def _info(self, path: str, size: int, mtime: float) -> tarfile.TarInfo:
        info = tarfile.TarInfo(path)
        info.size, info.mtime, info.mode = size, int(mtime), PRIVATE_FILE
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def add_file(self, path: str, source: Path) -> FileEntry:
        with _open_regular(source) as src:
            info = os.fstat(src.fileno())
            hashing = _Hashing(src)
            self.tar.addfile(self._info(path, info.st_size, info.st_mtime), hashing)
        return FileEntry(path, hashing.size, hashing.digest.hexdigest())

    def add_bytes(self, path: str, data: bytes) -> FileEntry:
        import io
        import time

        self.tar.addfile(self._info(path, len(data), time.time()), io.BytesIO(data))
        return FileEntry(path, len(data), hashlib.sha256(data).hexdigest())

    def finish(self) -> None:
        self.tar.close()
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        if self.dest.exists():
            raise BackupFailed(f"{self.dest} appeared while the backup was being written: it was left as it is.")
        os.replace(self.partial, self.dest)
        fsync_path(self.dest.parent)

    def abort(self) -> None:
        with suppress(Exception):
            self.tar.close()
        with suppress(Exception):
            self.fh.close()
        self.partial.unlink(missing_ok=True)


def writer_for(dest: Path) -> FolderWriter | TarWriter:
    if dest.name.lower().endswith((".tar.gz", ".tgz", ".zip", ".tar.xz", ".tar.bz2")):
        raise BackupFailed(
            f"{dest.name}: a backup is a folder or a plain .tar file (the originals are compressed already): "
            "give a name ending in .tar, or a folder."
        )
    return TarWriter(dest) if is_tar(dest) else FolderWriter(dest)


# ---------------------------------------------------------------- reading


class _Reader:
    """What both kinds of backup give: a file's bytes by its path, None when it is not there."""

    def open(self, path: str) -> BinaryIO:
        raise NotImplementedError

    def read(self, path: str) -> bytes | None:
        try:
            with self.open(path) as fh:
                return fh.read()
        except FileNotFoundError:
            return None


class FolderReader(_Reader):
    def __init__(self, src: Path):
        self.src = src

    def paths(self) -> list[str]:
        """Every file in the backup (relative, '/'); anything but folders and ordinary files is damage."""
        found = []
        for folder, dirs, files in os.walk(self.src):
            for name in dirs + files:
                path = Path(folder) / name
                relative = path.relative_to(self.src).as_posix()
                mode = path.lstat().st_mode
                if stat.S_ISDIR(mode):
                    continue
                if not stat.S_ISREG(mode):
                    raise BackupDamaged(
                        f"{relative} is not an ordinary file (a link?): a backup holds none: use another backup."
                    )
                found.append(relative)
        return found

    def open(self, path: str) -> BinaryIO:
        return open(os.open(self.src / path, os.O_RDONLY | os.O_NOFOLLOW), "rb")

    def close(self) -> None:
        pass


class TarReader(_Reader):
    def __init__(self, src: Path):
        self.src = src
        try:
            self.tar = tarfile.open(src, mode="r:")  # noqa: SIM115 (closed by close)
            self.members = {}
            for member in self.tar.getmembers():
                if member.isdir():
                    continue
                if not member.isreg():
                    raise BackupDamaged(
                        f"{member.name} in {src.name} is not an ordinary file (a link?): a backup holds none: "
                        "use another backup."
                    )
                if member.name in self.members:
                    raise BackupDamaged(f"{member.name} is in {src.name} twice: use another backup.")
                self.members[member.name] = member
        except (tarfile.TarError, EOFError) as exc:
            raise BackupDamaged(cut_short(src)) from exc

    def paths(self) -> list[str]:
        return list(self.members)

    def open(self, path: str) -> BinaryIO:
        member = self.members.get(path)
        if member is None:
            raise FileNotFoundError(path)
        return _Checked(self.tar.extractfile(member), self.src)

    def close(self) -> None:
        self.tar.close()


class _Checked:
    """A member's bytes; a .tar that ends in the middle of them is named as cut short."""

    def __init__(self, fh, src: Path):
        self.fh, self.src = fh, src

    def read(self, n: int = -1) -> bytes:
        try:
            return self.fh.read(n)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupDamaged(cut_short(self.src)) from exc

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()


def cut_short(src: Path) -> str:
    return f"{src} is cut short or damaged (not a complete .tar file): use another backup."


def reader_for(src: Path) -> FolderReader | TarReader:
    if src.is_dir():
        return FolderReader(src)
    if src.is_file():
        return TarReader(src)
    raise BackupDamaged(f"there is no backup at {src}: give the backup's folder or .tar file.")
