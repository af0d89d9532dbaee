"""What a file's name says it is. The format is always told from the bytes (pipeline.read.sniff);
the name only helps to tell a sender, in their own terms, that a file that could not be read is
not what its name says (random bytes, or a workbook cut short in sending, named .xlsx)."""

from __future__ import annotations

# the endings of the formats we read, and what a person expects a file so named to be
_KIND_BY_ENDING = {
    **dict.fromkeys(("xlsx", "xlsm", "xltx", "xltm", "xls"), "Excel workbook"),
    **dict.fromkeys(("docx", "docm", "dotx", "dotm", "doc"), "Word document"),
    "pdf": "PDF document",
    "odt": "OpenDocument text document",
    "ods": "OpenDocument spreadsheet",
    "rtf": "Rich Text document",
    **dict.fromkeys(("jpg", "jpeg", "png", "tif", "tiff", "heic", "heif", "bmp", "webp"), "picture"),
}


def named_kind(file_name: str) -> tuple[str, str] | None:
    """The file's ending and the kind of file it names ("xlsx", "Excel workbook"), or None where
    the name ends in no format we read."""
    ending = file_name.strip().rstrip(".").rpartition(".")[2].lower()
    kind = _KIND_BY_ENDING.get(ending) if "." in file_name else None
    return (ending, kind) if kind else None


def not_what_its_name_says(file_name: str) -> str | None:
    """For a file no reader could read: the message that says its name promises a format its
    bytes are not (None where the name promises none)."""
    named = named_kind(file_name)
    if named is None:
        return None
    ending, kind = named
    return (
        f"The file is named .{ending} but is not a readable {kind}: it may have been damaged in sending, "
        "or it is not what its name says. Please open it on your computer to check that it opens, "
        "then send it again."
    )
