"""LibreOffice and the OCR engines: ok when they work as a run uses them; failed when soffice is
not on this account's PATH, or an OCR engine is not installed."""

from __future__ import annotations

import os
import sys

import pytest

from pipeline.doctor.runner import Status
from pipeline.doctor.tools import check_libreoffice, check_ocr
from pipeline.settings import Settings


@pytest.fixture
def fresh_probe():
    """pipeline.read.convert tries once a process whether it can make a network namespace: again here."""
    from pipeline.read.convert import no_network_prefix

    no_network_prefix.cache_clear()
    yield
    no_network_prefix.cache_clear()


def test_libreoffice_converts_with_no_network(workdir, fresh_probe):
    finding = check_libreoffice(Settings())
    assert finding.status is Status.OK and finding.said.endswith("converts old files, with no network.")


def test_libreoffice_that_would_run_with_the_network_is_a_warning(workdir, monkeypatch, fresh_probe):
    fake = workdir / "bin"
    fake.mkdir()
    (fake / "unshare").write_text("#!/bin/sh\nexit 1\n")  # as where namespaces are not allowed
    (fake / "unshare").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    finding = check_libreoffice(Settings())
    assert finding.status is Status.WARNING and "but with the network" in finding.said
    assert "RestrictNamespaces=user net pid" in finding.fix


def test_libreoffice_not_on_the_path_fails_and_says_what_to_install(workdir, monkeypatch):
    empty = workdir / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    finding = check_libreoffice(Settings())
    assert finding.status is Status.FAILED and "LibreOffice (soffice) is not installed" in finding.said
    assert "apt install libreoffice-writer-nogui" in finding.fix


def test_libreoffice_that_cannot_convert_fails(workdir, monkeypatch):
    fake = workdir / "bin"
    fake.mkdir()
    (fake / "soffice").write_text("#!/bin/sh\nexit 1\n")
    (fake / "soffice").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:/usr/bin:/bin")
    finding = check_libreoffice(Settings())
    assert finding.status is Status.FAILED and "did not convert a test file" in finding.said


def test_ocr_engines_load(workdir):
    finding = check_ocr(Settings())
    assert finding.status is Status.OK and "RapidOCR and Tesseract load" in finding.said


def test_a_missing_ocr_engine_fails(workdir, monkeypatch):
    monkeypatch.setitem(sys.modules, "tesserocr", None)  # as if the package were not installed
    finding = check_ocr(Settings())
    assert finding.status is Status.FAILED and "an OCR engine is missing (tesserocr)" in finding.said
