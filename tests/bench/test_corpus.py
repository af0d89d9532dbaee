"""bench.corpus: the PDFs of the bench corpus are printed by LibreOffice a chunk of documents per
call, and a document it did not convert (it exits 0 all the same) is an error naming it, never
a smaller corpus than asked for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import corpus
from bench.corpus import CorpusShortfall, make_corpus, print_to_pdf

# stands in for LibreOffice: "converts" each document given (a PDF of the same name in --outdir),
# except those whose name holds $SKIP (default never-), and logs how many it was given per call
FAKE_SOFFICE = """#!/bin/sh
outdir=""; count=0
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) outdir="$2"; shift ;;
    *.docx) count=$((count + 1)); name=$(basename "$1" .docx)
            case "$name" in *"${{SKIP:-never-}}"*) ;; *) printf '%%PDF-1.4 fake' > "$outdir/$name.pdf" ;; esac ;;
  esac
  shift
done
echo "$count" >> "{log}"
exit 0
"""


@pytest.fixture
def fake_soffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    script = bin_dir / "soffice"
    script.write_text(FAKE_SOFFICE.format(log=log))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    return log


def _documents(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir()
    for name in names:
        (folder / f"{name}.docx").write_bytes(b"not read by the fake")
    return sorted(folder.iterdir())


def test_documents_are_converted_a_chunk_per_call(tmp_path: Path, fake_soffice: Path) -> None:
    docs = _documents(tmp_path / "docs", [f"form-{i}" for i in range(5)])
    out = tmp_path / "out"
    out.mkdir()

    made = print_to_pdf(docs, out, tmp_path / "profile", per_call=2)

    assert fake_soffice.read_text().split() == ["2", "2", "1"]
    assert sorted(p.name for p in made) == [f"form-{i}.pdf" for i in range(5)]
    assert all(p.exists() for p in made)


def test_a_document_not_converted_is_an_error_naming_it(tmp_path: Path, fake_soffice: Path) -> None:
    docs = _documents(tmp_path / "docs", ["form-1", "never-2", "form-3", "never-4", "form-5"])
    out = tmp_path / "out"
    out.mkdir()

    with pytest.raises(CorpusShortfall) as caught:
        print_to_pdf(docs, out, tmp_path / "profile", per_call=2)

    message = str(caught.value)
    assert "made 3 of the 5 PDFs" in message
    assert "2 missing: never-2.docx, never-4.docx" in message
    assert fake_soffice.read_text().split() == ["2", "2", "1", "2"]  # the two missing tried once more, together


def test_a_corpus_with_a_pdf_missing_is_not_marked_complete(
    tmp_path: Path, fake_soffice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(corpus, "PDFS_PER_CALL", 2)
    monkeypatch.setenv("SKIP", "00001-")
    folder = tmp_path / "corpus"

    with pytest.raises(CorpusShortfall, match=r"made 2 of the 3 PDFs .* 1 missing: 00001-"):
        make_corpus(3, folder, formats=("pdf",))
    assert fake_soffice.read_text().split() == ["2", "1", "1"]
    assert not (folder / ".complete").exists()  # the next bench builds it again


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_prints_every_document_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus, "PDFS_PER_CALL", 2)
    folder = make_corpus(3, tmp_path / "corpus", formats=("pdf",))

    pdfs = sorted(folder.glob("*.pdf"))
    assert len(pdfs) == 3
    assert all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    assert (folder / ".complete").exists()
