"""A PDF with every page turned (its /Rotate changed by pdfium), for tests of turned pages."""

from __future__ import annotations

import io

import pypdfium2 as pdfium


def turned_pdf(data: bytes, degrees: int) -> bytes:
    pdf = pdfium.PdfDocument(data)
    for page in pdf:
        page.set_rotation((page.get_rotation() + degrees) % 360)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()
