"""When is a new form a correction of an earlier one?

Many residents fill in an evaluation or a monitoring form for the same project on the same day,
and one member of staff often emails them all: those are separate responses and all load. A
form corrects an earlier one only when

- it comes from the same sender (or both came with no sender) under the same file name once
  the extension and words such as "(corrected)", "v2", "- amended", "FINAL" are ignored, and
  it is the same form (and, when both name one, for the same project); or
- it is a planning form for a project that already has one (one plan per project); or
- the admin links the two (`coforms supersede OLD NEW`).

Identical bytes are a duplicate, never a correction: that is decided before this.

Of two versions, the one sent later wins, whichever was taken in first: "sent" is the email's
Date, unless that is later than the moment the form was recorded (a wrong clock, or a header
written to win), and then the order of arrival decides (pipeline.store.warehouse.sent_order_time).
"""

from __future__ import annotations

import re
from email.utils import parseaddr

# words that mark another version of the same file, not another form
_VERSION_WORDS = re.compile(
    r"\b(?:v(?:er(?:sion)?)?\s*\d+|corrected|correction|amended|amendment|final|updated|update|revised|"
    r"resubmitted|resent|new|latest|copy(?:\s+of)?|fixed)\b")
_COPY_NUMBER = re.compile(r"\(\s*\d+\s*\)")  # "form (2).docx": a browser's or Windows' second copy
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def file_stem(file_name: str) -> str:
    """The file name without its extension, version words, copy numbers and punctuation."""
    stem = file_name.rsplit("/", 1)[-1]
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    stem = _COPY_NUMBER.sub(" ", stem.lower())
    stem = _VERSION_WORDS.sub(" ", stem.replace("_", " "))
    return " ".join(_NOT_WORD.sub(" ", stem).split())


def sender_address(sender: str | None) -> str:
    """The sender's address, lower case ("" when the file came without an email)."""
    if not sender:
        return ""
    return parseaddr(sender)[1].lower() or sender.strip().lower()


def correction_key(sender: str | None, source_file: str) -> str | None:
    """Forms with equal keys (and of the same form type) are versions of one form."""
    stem = file_stem(source_file)
    return f"{sender_address(sender)}|{stem}" if stem else None
