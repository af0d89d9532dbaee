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
written to win), and then the order of arrival decides (`sent_order_time`).

The warehouse only looks the earlier versions up (`History.replaceable_with_key`,
`replaceable_of_project`); which of them this form replaces is decided here (`other_versions`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from email.utils import parseaddr

from pipeline.forms.labels import normalise
from pipeline.records import EarlierForm

# words that mark another version of the same file, not another form
_VERSION_WORDS = re.compile(
    r"\b(?:v(?:er(?:sion)?)?\s*\d+|corrected|correction|amended|amendment|final|updated|update|revised|"
    r"resubmitted|resent|new|latest|copy(?:\s+of)?|fixed)\b"
)
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


def sent_order_time(received: dt.datetime | None, recorded: dt.datetime) -> dt.datetime | None:
    """When a form was sent, for ordering its versions: its email's Date (UTC, naive), unless that
    is later than the moment we recorded it. A Date in the future is the sender's word only (a
    wrong clock, or a header written to win): such a form is ordered by arrival, as one without
    a date, so it cannot outrank a correction sent after it."""
    return received if received is not None and received <= recorded else None


@dataclass(frozen=True)
class Corrections:
    """What a new submission does to its other versions."""

    replaces: dict[int, str] = field(default_factory=dict)  # older versions -> why
    replaced_by: tuple[int, str] | None = None  # a version sent later, already recorded


NO_CORRECTIONS = Corrections()


def _same_form(earlier: EarlierForm, form_type: str, project: str | None) -> bool:
    """Same sender and file name: a version of this form, unless it is another form or names
    another project (an unreadable earlier file may have been any form)."""
    same_type = earlier.form_type is None or earlier.form_type == form_type
    same_project = not (project and earlier.project_name) or normalise(project) == normalise(earlier.project_name)
    return same_type and same_project


def other_versions(
    key: str | None, form_type: str, project: str | None, sent: dt.datetime | None, history
) -> Corrections:
    """Which earlier-received versions this form replaces, or the later-received version that
    already replaces it (files are not always taken in the order they were sent). `history`
    looks up the replaceable earlier forms (pipeline.history.decide.History)."""
    found: dict[int, str] = {}
    sent_at: dict[int, dt.datetime | None] = {}
    for earlier in history.replaceable_with_key(key) if key else ():
        if _same_form(earlier, form_type, project):
            found[earlier.submission_id] = "a corrected version: same sender and file name"
            sent_at[earlier.submission_id] = sent_order_time(earlier.received_at, earlier.recorded_at)
    if form_type == "planning" and project:
        for earlier in history.replaceable_of_project("planning", project):
            found.setdefault(earlier.submission_id, "a newer plan for the same project (one plan per project)")
            sent_at[earlier.submission_id] = sent_order_time(earlier.received_at, earlier.recorded_at)
    newer = {sid: why for sid, why in found.items() if sent is not None and (sent_at[sid] or sent) > sent}
    if newer:
        newest = max(newer, key=lambda sid: (sent_at[sid], sid))
        return Corrections({}, (newest, newer[newest]))
    return Corrections(dict(sorted(found.items())))
