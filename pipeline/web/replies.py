"""The reply drafts to senders (OUTPUTS/replies/*.eml, written by pipeline.admin.replies), for the
admin to read, edit and send.

Only the text of a reply can be edited: who it goes to, its subject and its thread stay as the
pipeline wrote them (a reply never goes to anyone but the sender, an allowed address). Each edit
keeps the version before it under replies/earlier/ (<draft>.1.eml is the draft as written), so
nothing the pipeline wrote is lost. Sending uses the pipeline's own sending code (send_drafts:
the SMTP settings, TLS, and the move to replies/sent/ so a reply is never sent twice), offered
when an SMTP server is set (smtp_host).

A draft is named by the request but found in the folder's listing: never a path from the request.
Saving and sending hold the outputs folder's lock (briefly), as a run does when it writes or sends
drafts, and a save checks the draft is still the one the admin opened."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.admin.replies import send_drafts
from pipeline.files import private_dir, write_atomically
from pipeline.reports.workbook import LONDON
from pipeline.settings import Settings
from pipeline.store.lock import RunInProgress, exclusive_run
from pipeline.web.guard import checked_form, require
from pipeline.web.pages import problem_page, render
from pipeline.web.roles import Role

log = logging.getLogger(__name__)

REPLIES = "replies"
EARLIER = "earlier"  # replies/earlier/<draft stem>.<n>.eml: each version before an edit
SENT = "sent"  # where send_drafts moves a draft once sent
LOCK_WAIT_SECONDS = 5
MAX_BODY = 50_000  # characters: a reply is a few paragraphs


def _folder(settings: Settings) -> Path:
    return settings.outputs / REPLIES


def _listed(folder: Path) -> dict[str, Path]:
    """The drafts in a folder, by name (the only names a request can open)."""
    if not folder.is_dir():
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if p.suffix == ".eml" and p.is_file()}


def drafts(settings: Settings) -> dict[str, Path]:
    return _listed(_folder(settings))


def sent_replies(settings: Settings) -> dict[str, Path]:
    return _listed(_folder(settings) / SENT)


def earlier_versions(settings: Settings, name: str) -> list[Path]:
    return earlier_versions_in(_folder(settings) / EARLIER, name)


def earlier_versions_in(folder: Path, name: str) -> list[Path]:
    """The versions of a draft before each edit, the first (the draft as written) first."""
    stem = Path(name).stem
    found = {}
    for path in _listed(folder).values():
        kept_stem, _, n = path.stem.rpartition(".")
        if kept_stem == stem and n.isdigit():
            found[int(n)] = path
    return [found[n] for n in sorted(found)]


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass
class Draft:
    name: str
    sender_to: str  # the To header: the person who sent the forms
    subject: str
    sent_from: str
    in_reply_to: str
    written: str
    body: str
    version: str


def _parsed(path: Path) -> tuple[EmailMessage, bytes]:
    data = path.read_bytes()
    return BytesParser(policy=policy.default).parsebytes(data), data


def read_draft(path: Path) -> Draft:
    message, data = _parsed(path)
    body_part = message.get_body(preferencelist=("plain",))
    written = dt.datetime.fromtimestamp(path.stat().st_mtime, LONDON).strftime("%d/%m/%Y %H:%M")
    return Draft(
        name=path.name,
        sender_to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        sent_from=str(message.get("From", "")),
        in_reply_to=str(message.get("In-Reply-To", "")),
        written=written,
        body=body_part.get_content() if body_part is not None else "",
        version=version_of(data),
    )


class DraftChanged(Exception):
    """The draft is no longer the one the admin opened (edited, sent, or written again by a run)."""


def _save(path: Path, body: str, version: str) -> str:
    """Keep the draft as it is now under earlier/, then write it again with the new text (its
    headers as they were); the new version. Nothing is written when the text is the same."""
    if not path.is_file():
        raise DraftChanged()
    message, data = _parsed(path)
    if version_of(data) != version:
        raise DraftChanged()
    part = message.get_body(preferencelist=("plain",))
    if part is not None and part.get_content() == body:
        return version
    earlier = private_dir(path.parent / EARLIER)
    kept = earlier_versions_in(earlier, path.name)
    n = int(kept[-1].stem.rpartition(".")[2]) + 1 if kept else 1
    write_atomically(earlier / f"{path.stem}.{n}.eml", data)
    message.set_content(body, cte="8bit")  # as the pipeline writes it: readable as a file, too
    new = bytes(message)
    write_atomically(path, new)
    return version_of(new)


def save_edit(settings: Settings, path: Path, body: str, version: str) -> None:
    """Under the outputs lock: a run writing or sending drafts waits."""
    with exclusive_run(settings.outputs, LOCK_WAIT_SECONDS):
        _save(path, body, version)


def save_and_send(settings: Settings, path: Path, body: str, version: str) -> int:
    """Save the text as shown, then send the draft by the pipeline's own code (moved to sent/ once
    sent); the number sent (0: the mail server refused the address, and the draft stays)."""
    with exclusive_run(settings.outputs, LOCK_WAIT_SECONDS):
        _save(path, body, version)
        return send_drafts([path], settings)


def _clean_body(text: str) -> str:
    """The textarea's text as the email's: browsers send CRLF line ends; the draft has LF."""
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    return body.rstrip() + "\n"


def _body_error(body: str) -> str | None:
    if not body.strip():
        return "Write the reply"
    if len(body) > MAX_BODY:
        return f"The reply is too long: at most {MAX_BODY:,} characters"
    return None


# ------------------------------------------------------------ pages


def _draft_or_404(request: Request, listing: dict[str, Path]) -> Path | None:
    return listing.get(request.path_params["name"])


def _missing(request: Request) -> Response:
    return problem_page(request, 404, "No such reply", "There is no reply draft of that name (it may have been sent).")


def replies_page(request: Request) -> Response:
    require(request, Role.ADMIN)
    settings: Settings = request.app.state.settings
    sent = sent_replies(settings)
    return render(
        request,
        "replies.html",
        title="Replies to senders",
        drafts=[read_draft(p) for p in drafts(settings).values()],
        sent=[read_draft(p) for p in sent.values()],
        can_send=bool(settings.smtp_host),
        sent_now=request.query_params.get("sent") if request.query_params.get("sent") in sent else None,
    )


def _draft_page(request: Request, path: Path, status_code: int = 200, **extra) -> Response:
    settings: Settings = request.app.state.settings
    draft = read_draft(path)
    extra.setdefault("body", draft.body)
    return render(
        request,
        "replies_draft.html",
        status_code=status_code,
        title=f"Reply to {draft.sender_to}",
        draft=draft,
        earlier=len(earlier_versions(settings, path.name)),
        can_send=bool(settings.smtp_host),
        saved=request.query_params.get("saved") == "1",
        **extra,
    )


def draft_page(request: Request) -> Response:
    require(request, Role.ADMIN)
    path = _draft_or_404(request, drafts(request.app.state.settings))
    return _draft_page(request, path) if path else _missing(request)


def sent_page(request: Request) -> Response:
    require(request, Role.ADMIN)
    path = _draft_or_404(request, sent_replies(request.app.state.settings))
    if path is None:
        return _missing(request)
    return render(request, "replies_sent.html", title="A reply that was sent", draft=read_draft(path))


def _changed(request: Request, name: str) -> Response:
    return render(
        request,
        "problem.html",
        status_code=409,
        title="This reply has changed",
        message=f"The reply {name} has changed since you opened it (someone edited or sent it, or a run wrote it "
        "again). Nothing was saved or sent. Open it again to see it as it is now.",
    )


def _busy(request: Request) -> Response:
    response = problem_page(
        request,
        503,
        "A run is working",
        "A run is working on the replies right now. Nothing was done: try again in a minute.",
    )
    response.headers["Retry-After"] = "60"
    return response


async def save_draft(request: Request) -> Response:
    _user, fields = await checked_form(request, Role.ADMIN)
    settings: Settings = request.app.state.settings
    path = _draft_or_404(request, drafts(settings))
    if path is None:
        return _missing(request)
    body = _clean_body(fields.get("body", ""))
    if error := _body_error(body):
        return _draft_page(request, path, 400, error=error, body=fields.get("body", ""))
    try:
        await run_in_threadpool(save_edit, settings, path, body, fields.get("version", ""))
    except DraftChanged:
        return _changed(request, path.name)
    except RunInProgress:
        return _busy(request)
    return RedirectResponse(f"/replies/{path.name}?saved=1", status_code=303)


async def send_draft(request: Request) -> Response:
    """Send the reply as shown in the text box (saved first, if it was changed)."""
    _user, fields = await checked_form(request, Role.ADMIN)
    settings: Settings = request.app.state.settings
    path = _draft_or_404(request, drafts(settings))
    if path is None:
        return _missing(request)
    if not settings.smtp_host:
        return problem_page(
            request, 409, "Sending is not set up", "No mail server is set (setting smtp_host): nothing was sent."
        )
    body = _clean_body(fields.get("body", ""))
    if error := _body_error(body):
        return _draft_page(request, path, 400, error=error, body=fields.get("body", ""))
    try:
        sent = await run_in_threadpool(save_and_send, settings, path, body, fields.get("version", ""))
    except DraftChanged:
        return _changed(request, path.name)
    except RunInProgress:
        return _busy(request)
    except (OSError, smtplib.SMTPException) as exc:  # no server, refused sign-in, TLS: said, not shown as a crash
        log.warning("Reply %s not sent: %s (%s)", path.name, exc, type(exc).__name__)
        return problem_page(
            request,
            502,
            "Not sent",
            "The mail server could not be reached or refused the reply. Nothing was sent; the draft is kept. "
            "Try again later, or ask for the mail settings to be checked.",
        )
    if not sent:
        return problem_page(
            request,
            502,
            "Not sent",
            "The mail server refused the address this reply is for. Nothing was sent; the draft is kept.",
        )
    return RedirectResponse(f"/replies?sent={path.name}", status_code=303)


routes = [
    Route("/replies", replies_page, methods=["GET"]),
    Route("/replies/sent/{name}", sent_page, methods=["GET"]),
    Route("/replies/{name}", draft_page, methods=["GET"]),
    Route("/replies/{name}", save_draft, methods=["POST"]),
    Route("/replies/{name}/send", send_draft, methods=["POST"]),
]
