from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.templates import write_templates

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) prints the forms")


@pytest.fixture(scope="session")
def blank_templates(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("blank_templates")
    write_templates(out)
    return out


def print_to_pdf(files: list[Path], out_dir: Path) -> list[Path]:
    """Print as LibreOffice prints (its own profile, so runs do not share one)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(out_dir / 'profile').as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(out_dir), *map(str, files)],
        check=True, capture_output=True, timeout=240,
    )  # fmt: skip
    return [out_dir / f"{f.stem}.pdf" for f in files]
