"""Build tests/corpus/hostile/: files meant to break a parser. Each name maps to the problem
code it must produce (HOSTILE); tests/test_hostile.py runs them all through `coforms run`.

    python -m tests.corpus.make_hostile
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from tests.conftest import GOLDEN

HOSTILE_DIR = Path(__file__).parent / "hostile"

# file name -> the problem code it must be listed with (None: it is a readable form)
HOSTILE: dict[str, str | None] = {
    "empty.docx": "corrupt_file",
    "truncated.docx": "corrupt_file",
    "truncated.xlsx": "corrupt_file",
    "truncated.pdf": "corrupt_file",
    "pdf_named.docx": None,  # a good PDF with the wrong name: read as the PDF it is
    "csv_named.xlsx": "unsupported_format",
    "password_protected.docx": "encrypted",
    "macros.docm": None,  # read; the macros are never run
    "macros.xlsm": None,
    "zip_bomb.docx": "too_large",
    "declares_whole_sheet.xlsx": None,  # dimension A1:XFD1048576 and a cell out there: capped, read
    "xxe.docx": "corrupt_file",  # the DTD is refused, the entity never resolved: no /etc/passwd
    "xxe.xlsx": "corrupt_file",  # defusedxml refuses the DTD
    "billion_laughs.docx": "corrupt_file",
    "billion_laughs.xlsx": "corrupt_file",
    "pdf_reference_cycle.pdf": "corrupt_file",
    "pdf_deep_nesting.pdf": "corrupt_file",
    "control_characters.xlsx": None,  # read; the characters never reach a report
    "path_traversal.eml": None,  # the attachment's name loses its folders
}

XXE_DOCUMENT = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>Project Name: &xxe;</w:t></w:r></w:p></w:body></w:document>"""

LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b"]>"
)


def _replace_part(source: Path, part: str, new: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, new if item.filename == part else src.read(item))
    return out.getvalue()


def _add_part(
    data: bytes, part: str, content: bytes, content_type_from: bytes = b"", content_type_to: bytes = b""
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "[Content_Types].xml" and content_type_from:
                body = body.replace(content_type_from, content_type_to)
            dst.writestr(item.filename, body)
        dst.writestr(part, content)
    return out.getvalue()


def _zip_bomb() -> bytes:
    """A tiny zip whose one part declares 8 GB (sizes patched after writing)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * 1024)
    data = bytearray(out.getvalue())
    huge = struct.pack("<I", 0xFFFFFFF0)
    # patch the uncompressed size in the central directory entry of word/document.xml
    index = data.rfind(b"PK\x01\x02")
    data[index + 24 : index + 28] = huge
    return bytes(data)


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF with the given objects and a correct xref, so the damage is in the structure."""
    out = b"%PDF-1.7\n"
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def build(folder: Path = HOSTILE_DIR) -> list[Path]:
    import msoffcrypto.format.ooxml
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)
    docx = GOLDEN / "planning" / "toolkit_layout.docx"
    xlsx = GOLDEN / "voucher" / "sheet_numeric_amounts.xlsx"
    pdf = GOLDEN / "planning" / "pdf_toolkit_layout.pdf"
    files: dict[str, bytes] = {
        "empty.docx": b"",
        "truncated.docx": docx.read_bytes()[:1500],
        "truncated.xlsx": xlsx.read_bytes()[:1500],
        "truncated.pdf": pdf.read_bytes()[:2000],
        "pdf_named.docx": pdf.read_bytes(),
        "csv_named.xlsx": b"Name,Date,Activity\r\nGrace Adeyemi,06/05/2025,Workshop 1\r\n",
        "zip_bomb.docx": _zip_bomb(),
        "xxe.docx": _replace_part(docx, "word/document.xml", XXE_DOCUMENT),
        "billion_laughs.docx": _replace_part(
            docx,
            "word/document.xml",
            XXE_DOCUMENT.replace(b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', LAUGHS).replace(
                b"&xxe;", b"&lol9;"
            ),
        ),
        "xxe.xlsx": _replace_part(
            xlsx,
            "xl/worksheets/sheet1.xml",
            b'<?xml version="1.0"?>'
            b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
            b"</sheetData></worksheet>",
        ),
        "billion_laughs.xlsx": _replace_part(
            xlsx,
            "xl/worksheets/sheet1.xml",
            b'<?xml version="1.0"?>'
            + LAUGHS
            + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
            b'main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t>'
            b"</is></c></row></sheetData></worksheet>",
        ),
        "macros.docm": _add_part(
            docx.read_bytes(),
            "word/vbaProject.bin",
            b"\xd0\xcf\x11\xe0 AutoOpen Shell",
            b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            b"application/vnd.ms-word.document.macroEnabled.main+xml",
        ),
        "macros.xlsm": _add_part(
            xlsx.read_bytes(),
            "xl/vbaProject.bin",
            b"\xd0\xcf\x11\xe0 Workbook_Open Shell",
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        ),
        "pdf_reference_cycle.pdf": _pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>",
            ]
        ),
        "pdf_deep_nesting.pdf": _pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R /Deep " + b"[" * 50000 + b"]" * 50000 + b" >>",
                b"<< /Type /Pages /Kids [] /Count 0 >>",
            ]
        ),
    }
    encrypted = io.BytesIO()
    with docx.open("rb") as fh:
        msoffcrypto.format.ooxml.OOXMLFile(fh).encrypt("secret", encrypted)
    files["password_protected.docx"] = encrypted.getvalue()
    wb = openpyxl.load_workbook(xlsx)
    ws = wb.active
    ws["XFD1048576"] = "far away"
    buffer = io.BytesIO()
    wb.save(buffer)
    files["declares_whole_sheet.xlsx"] = buffer.getvalue()
    wb = openpyxl.load_workbook(xlsx)
    wb.active["A2"] = "Project Name:"
    buffer = io.BytesIO()
    wb.save(buffer)
    # a control character (BEL) and a formula-looking value in cell text, written into the XML
    files["control_characters.xlsx"] = _replace_part_bytes(
        buffer.getvalue(), "xl/sharedStrings.xml", b"Tom Okafor", b"Tom\x07 Okafor=cmd|' /C calc'!A0"
    )
    from tests.fixtures import emails

    files["path_traversal.eml"] = emails.path_traversal()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    assert set(files) == set(HOSTILE)
    return [folder / name for name in files]


def _replace_part_bytes(data: bytes, part: str, old: bytes, new: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            dst.writestr(item.filename, body.replace(old, new) if item.filename == part else body)
    return out.getvalue()


if __name__ == "__main__":
    for path in build():
        print(path)
