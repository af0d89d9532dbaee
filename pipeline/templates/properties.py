"""The document properties every template carries (File > Info in Word and Excel, Document
Properties in a PDF reader): the form's name as its title and the council's co-production team
as its author and company, never the name of the library that wrote the file."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

AUTHOR = "Adult Social Care Co-production Team"
COMPANY = "London Borough of Camden"
CONTACT = "coproduction@camden.gov.uk"
GENERATOR = "coforms templates"  # what wrote the file, where a format asks for it (PDF Creator/Producer)


@dataclass(frozen=True)
class Properties:
    title: str
    subject: str = "Co-production in Adult Social Care"
    author: str = AUTHOR
    company: str = COMPANY
    keywords: str = "co-production, Adult Social Care, form"

    @property
    def description(self) -> str:
        return f"{self.title}: fill in and send to {CONTACT}."


def _set_element(xml: str, tag: str, text: str) -> str:
    element = f"<{tag}>{escape(text)}</{tag}>"
    pattern = re.compile(rf"<{tag}\s*/>|<{tag}>.*?</{tag}>", re.DOTALL)
    if pattern.search(xml):
        return pattern.sub(lambda _: element, xml, count=1)
    return xml.replace("</Properties>", element + "</Properties>")


def set_office_app_properties(path: Path, props: Properties) -> None:
    """The Company (which neither python-docx nor openpyxl sets) and the Application (which they
    fill with their own names) in an Office file's docProps/app.xml. The package is rewritten
    member for member, in the same order."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            if info.filename == "docProps/app.xml":
                xml = data.decode("utf-8")
                xml = _set_element(xml, "Application", GENERATOR)
                xml = _set_element(xml, "Company", props.company)
                data = xml.encode("utf-8")
            target.writestr(info, data)
