"""Hostile files for the readers, built in a few lines each. Where a public test file showed the
problem, the builder says which one it mirrors (the file itself is not fetched here)."""

from __future__ import annotations

import io
import random
import zipfile

from tests.corpus.make_hostile import _pdf
from tests.fixtures.wordml import WordDoc, run

VML = 'xmlns:v="urn:schemas-microsoft-com:vml" '


def _docx(document_xml: str | bytes, stored: bool = False) -> bytes:
    """A .docx around the given word/document.xml (the rest as tests.fixtures.wordml writes it)."""
    doc = WordDoc()
    doc.xml = lambda: document_xml  # type: ignore[method-assign]
    out = io.BytesIO()
    doc.save(out)  # ZipFile writes to a file object as to a path
    if not stored:
        return out.getvalue()
    # document.xml stored, not deflated: 60 MB that compress ~1000x would be refused as a zip bomb
    # before the reader is reached, and the point here is what the reader does with them
    again = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as src, zipfile.ZipFile(again, "w") as dst:
        for item in src.infolist():
            compression = zipfile.ZIP_STORED if item.filename == "word/document.xml" else zipfile.ZIP_DEFLATED
            dst.writestr(item.filename, src.read(item), compress_type=compression)
    return again.getvalue()


def text_box(inner: str, label: str) -> str:
    """A run holding a VML text box (as Word writes in w:pict) whose paragraph holds `inner`."""
    return (
        f"<w:r><w:pict><v:shape><v:textbox><w:txbxContent><w:p>{run(label)}{inner}</w:p>"
        "</w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
    )


def nested_text_boxes_docx(depth: int) -> bytes:
    """~2 KB: text boxes nested `depth` deep, each holding one word (level 1 .. level N).
    Six XML levels a box, so 40 deep stays under libxml2's 256 levels and parses."""
    inner = ""
    for level in range(depth, 0, -1):
        inner = text_box(inner, f"level {level}")
    xml = WordDoc().p(run("Top"), inner).xml().replace("<w:document ", "<w:document " + VML, 1)
    return _docx(xml)


def tiny_cells_docx(megabytes: int = 60) -> bytes:
    """A table of millions of one-character cells: `megabytes` of document.xml."""
    row = "<w:tr>" + "<w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc>" * 20 + "</w:tr>"
    rows = (megabytes * 1024 * 1024) // len(row)
    head, tail = WordDoc().p(run("Project Name: Cells")).xml().split("<w:sectPr>", 1)
    xml = head + "<w:tbl>" + row * rows + "</w:tbl><w:sectPr>" + tail
    return _docx(xml.encode(), stored=True)


# ---------------------------------------------------------------- xlsx

_XLSX_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
{extra}</Types>"""

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _xlsx(sheet_data: str, shared_strings: list[str], external_link: bool = False) -> bytes:
    """A minimal workbook of one sheet, as Excel lays the parts out."""
    extra_rel = extra_ct = external = ""
    if external_link:
        extra_rel = f'<Relationship Id="rId9" Type="{_REL}/externalLink" Target="externalLinks/externalLink1.xml"/>'
        extra_ct = (
            '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
        )
        external = '<externalReferences><externalReference r:id="rId9"/></externalReferences>'
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_MAIN}" '
        f'xmlns:r="{_REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>{external}'
        "</workbook>"
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
        '"http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        f"{extra_rel}</Relationships>"
    )
    strings = "".join(f"<si><t>{s}</t></si>" for s in shared_strings)
    parts = {
        "[Content_Types].xml": _XLSX_CONTENT_TYPES.format(extra=extra_ct),
        "_rels/.rels": _ROOT_RELS,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": workbook_rels,
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'
        f"<sheetData>{sheet_data}</sheetData></worksheet>",
        "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}" '
        f'count="{len(shared_strings)}" uniqueCount="{len(shared_strings)}">{strings}</sst>',
    }
    if external_link:
        # as LibreOffice writes a link to another workbook: the part, but no _rels of its own,
        # which openpyxl's link reader looks up and fails on
        parts["xl/externalLinks/externalLink1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<externalBook r:id="rId1"><sheetNames><sheetName val="Prices"/></sheetNames></externalBook>'
            "</externalLink>"
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return out.getvalue()


def shared_strings_bomb_xlsx(cells: int = 12_000, string_bytes: int = 1024 * 1024) -> bytes:
    """Mirrors apache/poi test-data/spreadsheet/poc-shared-strings.xlsx: 12,000 cells all pointing
    at one 1 MB shared string, 12 GB of text once every cell is read. The string is letters at
    random, so the zip stays under the zip-bomb ratio as poi's file does (this one ~600 KB)."""
    letters = random.Random(16)
    text = "".join(letters.choices("abcdefghijklmnop ", k=string_bytes))
    columns = "ABCDEF"
    rows = []
    for r in range(1, cells // len(columns) + 1):
        rows.append(f'<row r="{r}">' + "".join(f'<c r="{c}{r}" t="s"><v>1</v></c>' for c in columns) + "</row>")
    return _xlsx("".join(rows), ["Name", text])


def external_link_xlsx() -> bytes:
    """A small form sheet that links to another workbook, its link part without relationships."""
    sheet = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    return _xlsx(sheet, ["Project Name:", "Riverside Garden"], external_link=True)


def xlsb() -> bytes:
    """The parts of an Excel binary workbook (.xlsb): the same zip layout, .bin parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/xl/workbook.bin" ContentType="application/'
            'vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        )
        zf.writestr("_rels/.rels", _ROOT_RELS.replace("workbook.xml", "workbook.bin"))
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00\x80\x01\x00")
        zf.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00\x82\x01\x00")
    return out.getvalue()


# ---------------------------------------------------------------- pdf


def _stream(head: bytes, body: bytes) -> bytes:
    return head + b" /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def self_drawing_xobject_pdf(draws: int = 2) -> bytes:
    """~870 bytes: a page that draws Form XObject X1, which draws itself `draws` times. pdfium
    follows it until the process runs out of memory and aborts (a worker dies at once)."""
    resources = b"<< /XObject << /X1 5 0 R >> /Font << /F1 6 0 R >> >>"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources " + resources + b" >>",
            _stream(b"<<", b"BT /F1 12 Tf 72 720 Td (Project Name: Recursion here) Tj ET /X1 Do"),
            _stream(
                b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources " + resources,
                b"BT /F1 12 Tf 72 700 Td (again) Tj ET " + b" /X1 Do" * draws,
            ),
            _FONT,
        ]
    )


def fan_out_xobjects_pdf(forms: int = 30, draws_each: int = 2) -> bytes:
    """No cycle, exponential: form k draws form k+1 `draws_each` times, so the last form is drawn
    draws_each ** (forms - 1) times. Nothing is drawn twice on one path, so a cycle check alone
    lets it through."""
    n = forms
    xobjects = b" ".join(b"/X%d %d 0 R" % (i, 6 + i) for i in range(n))  # forms are objects 6 ..
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources 5 0 R >>",
        _stream(b"<<", b"BT /F1 12 Tf 72 720 Td (Project Name: Fan out of forms) Tj ET /X0 Do"),
        b"<< /XObject << " + xobjects + b" >> /Font << /F1 %d 0 R >> >>" % (6 + n),
    ]
    for i in range(n):
        body = b" ".join([b"/X%d Do" % (i + 1)] * draws_each) if i + 1 < n else b"0 0 m 1 1 l S"
        objs.append(_stream(b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources 5 0 R", body))
    objs.append(_FONT)
    return _pdf(objs)


def page_counted_twice_pdf() -> bytes:
    """A page tree that lists its one page twice: pdfium counts 2 pages, pdfminer 1."""
    text = b"BT /F1 12 Tf 72 720 Td (Project Name: Counted pages differently) Tj ET"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(b"<<", text),
            _FONT,
        ]
    )


# ---------------------------------------------------------------- OLE


def with_upper_case_streams(ole: bytes, *names: str) -> bytes:
    """The same OLE file with the named streams' directory names in capitals (as some real .doc
    and .xls files have them). OLE sorts names case-blind, so the directory stays valid."""
    for name in names:
        ole = ole.replace(name.encode("utf-16-le"), name.upper().encode("utf-16-le"))
    return ole


def linked_image_odt(url: str) -> bytes:
    """An .odt (the ODF zip written by hand) that shows a picture linked, not embedded, from `url`,
    and has a web link to it: LibreOffice fetches the picture while converting."""
    content = f'''<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:xlink="http://www.w3.org/1999/xlink"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.3">
<office:body><office:text>
<text:p>Project Name: Linked picture</text:p>
<text:p><draw:frame draw:name="signature" svg:width="2cm" svg:height="1cm" text:anchor-type="as-char">
<draw:image xlink:href="{url}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>
<text:p><text:a xlink:type="simple" xlink:href="{url}?link">our web page</text:a></text:p>
</office:text></office:body></office:document-content>'''
    manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def renamed_stream(ole: bytes, old: str, new: str) -> bytes:
    """The OLE file with a stream's directory entry renamed (64 bytes of UTF-16 name, then its
    length in bytes with the closing NUL); `new` no longer than `old`."""
    entry = old.encode("utf-16-le") + b"\0\0"
    at = ole.index(entry)
    name = new.encode("utf-16-le") + b"\0\0"
    patched = bytearray(ole)
    patched[at : at + 64] = name.ljust(64, b"\0")
    patched[at + 64 : at + 66] = len(name).to_bytes(2, "little")
    return bytes(patched)
