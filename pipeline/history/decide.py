"""What becomes of one form, given the forms before it: decided here, once per form.

The warehouse only looks things up (`History`, which it implements from its tables and its
batch caches) and stores what the `Decision` says. In order:

1. the same bytes came before: a duplicate of the first, nothing read is kept;
2. nothing could be read: rejected, with the reader's problem;
3. no project on the form, and the email subject names exactly one loaded project: that one
   (the validator's project_unknown is withdrawn; pipeline.history.cross_checks);
4. its other versions (pipeline.history.corrections): the earlier ones it replaces, or the one
   sent later that replaces it already, and then it is superseded on arrival;
5. voucher lines already claimed on another loaded form (not one this form replaces);
6. held if any problem is an error, else loaded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

from pipeline.history.corrections import correction_key, other_versions, sent_order_time
from pipeline.history.cross_checks import claims_made_before, with_project_from_subject
from pipeline.problems import has_errors
from pipeline.records import Decision, EarlierForm, ParsedFile, Provenance, Status
from pipeline.store.warehouse import Recorded, Warehouse


class History(Protocol):
    """What decide reads of the forms recorded before (look-ups only; the warehouse answers,
    counting the forms recorded earlier in the same uncommitted batch)."""

    def first_with_sha256(self, sha256: str) -> int | None:
        """The first submission (not itself a duplicate) with these bytes."""

    def known_projects(self) -> frozenset[str]:
        """The project names of loaded forms."""

    def loaded_claims(self, keys: Iterable[str], excluding: Iterable[int] = ()) -> dict[str, tuple[int, str]]:
        """Claim key -> (submission, file) of the first loaded voucher line with that key."""

    def replaceable_with_key(self, key: str) -> list[EarlierForm]:
        """Forms still replaceable (loaded, held, rejected) recorded under this correction key."""

    def replaceable_of_project(self, form_type: str, project: str) -> list[EarlierForm]:
        """Forms of this type still replaceable that name this project (compared as labels are)."""


def _utc_naive(moment: dt.datetime | None) -> dt.datetime | None:
    """As the warehouse stores times: UTC without a zone."""
    if moment is not None and moment.tzinfo is not None:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def decide(
    parsed: ParsedFile | None, provenance: Provenance, sha256: str, history: History, now: dt.datetime
) -> Decision:
    """The Decision for one form arriving now (`parsed` None: its bytes were not read)."""
    key = correction_key(provenance.sender, provenance.source_file)
    original = history.first_with_sha256(sha256)
    if original is not None:
        return Decision(Status.DUPLICATE, None, key, duplicate_of=original)
    if parsed is None or parsed.form is None:
        return Decision(Status.REJECTED, parsed, key)
    parsed, withdrawn = with_project_from_subject(parsed, provenance.subject, history)
    sent = sent_order_time(_utc_naive(provenance.received_at), _utc_naive(now))
    versions = other_versions(key, parsed.form_type, getattr(parsed.form, "project_name", None), sent, history)
    added = tuple(claims_made_before(parsed, history, excluding=versions.replaces))
    if versions.replaced_by:
        status = Status.SUPERSEDED
    else:
        status = Status.HELD if has_errors([*parsed.problems, *added]) else Status.LOADED
    return Decision(
        status,
        parsed,
        key,
        supersedes=versions.replaces,
        superseded_by=versions.replaced_by,
        added=added,
        withdrawn=withdrawn,
    )


def decide_and_record(
    warehouse: Warehouse,
    provenance: Provenance,
    sha256: str,
    parsed: ParsedFile | None,
    intake: tuple[int, int] | None = None,
    now: dt.datetime | None = None,
) -> Recorded:
    """One form decided and stored (in its own transaction, or in the warehouse's open batch)."""
    now = now or dt.datetime.now(dt.UTC)
    return warehouse.record(provenance, sha256, decide(parsed, provenance, sha256, warehouse, now), now, intake)
