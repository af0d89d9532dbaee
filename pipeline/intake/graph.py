"""Fetch new mail through the Microsoft Graph mail API (mail_source = "graph").

The same order as over IMAP (pipeline.intake.mail_ledger): each message's MIME is written to the
inbox and noted in the ledger, and only then moved to the processed folder; a crash in between
leaves it in the mailbox and the next fetch only moves it. The folder's messages are listed in
full first (following @odata.nextLink) and then taken one by one: moving while paging would
shift the pages under us and skip messages. Throttling (429 with Retry-After) is waited out; a
token the API no longer takes is replaced once. Endpoints as documented for Graph v1.0:
/users/{mailbox}/mailFolders, .../messages/{id}/$value, .../messages/{id}/move.
"""

from __future__ import annotations

import logging
import ssl
import time
from urllib.parse import quote

import httpx

from pipeline.intake.inbox import require_inbox
from pipeline.intake.m365 import M365Tokens, graph_scope, tokens_for
from pipeline.intake.mail_ledger import FetchSummary, MailFetchError, keep, ledger_for
from pipeline.settings import Settings

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury coforms.log

PAGE_SIZE = 50
MAX_WAIT_SECONDS = 120  # a longer Retry-After: stop, the rest comes next time
MAX_THROTTLES = 5  # per request


def mailbox_address(settings: Settings) -> str:
    address = settings.graph_mailbox or settings.imap_user
    if not address:
        raise MailFetchError("mail_source is 'graph' but no mailbox is named: set graph_mailbox (or imap_user).")
    return address


def describe(settings: Settings) -> str:
    return f"{settings.graph_mailbox or settings.imap_user} (Microsoft Graph)"


class MessageGone(MailFetchError):
    """A listed message (or folder) is no longer there: moved or deleted by someone else meanwhile."""


class GraphMailbox:
    """One mailbox through Graph, with the app's token on every request."""

    def __init__(self, settings: Settings, tokens: M365Tokens, client: httpx.Client):
        self.settings = settings
        self.tokens = tokens
        self.client = client
        self.address = mailbox_address(settings)
        self.base = f"{settings.graph_url.rstrip('/')}/users/{quote(self.address, safe='@')}"

    # -- requests -------------------------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        if not url.startswith("http"):
            url = self.base + url
        refreshed = False
        throttled = 0
        while True:
            headers = {"Authorization": f"Bearer {self.tokens.token()}"}
            try:
                response = self.client.request(method, url, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise MailFetchError(self._unreachable(exc)) from exc
            if response.status_code in (429, 503) and throttled < MAX_THROTTLES:
                throttled += 1
                wait = _retry_after(response)
                if wait > MAX_WAIT_SECONDS:
                    raise MailFetchError(
                        f"Microsoft Graph asks coforms to wait {wait:.0f} seconds (too many requests): what was "
                        "fetched is kept, the rest comes with the next fetch."
                    )
                log.info("Microsoft Graph is throttling: waiting %.1fs as it asks", wait)
                time.sleep(wait)
                continue
            if response.status_code == 401 and not refreshed:
                # expired or revoked before MSAL thought so: drop it, ask for a new one, try again once
                refreshed = True
                self.tokens.forget()
                continue
            if response.status_code == 404 and _graph_error(response)[0] == "ErrorItemNotFound":
                raise MessageGone(
                    f"Something coforms was reading went from the mailbox {self.address} meanwhile (moved or "
                    "deleted by someone): run the fetch again."
                )
            if response.is_error:
                raise MailFetchError(self._refused(response))
            return response

    def _unreachable(self, exc: httpx.HTTPError) -> str:
        host = httpx.URL(self.settings.graph_url).host
        if isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return (
                f"The certificate of the Graph server {host} is not trusted: for a private certificate, set "
                "m365_ca_file to its CA bundle."
            )
        if isinstance(exc, httpx.TimeoutException):
            return f"Microsoft Graph ({host}) did not answer in time: check the network or firewall."
        if isinstance(exc, httpx.ConnectError):
            return f"Microsoft Graph ({host}) could not be reached: check this machine's network and graph_url."
        return (
            f"The connection to Microsoft Graph ({host}) failed ({type(exc).__name__}); what was fetched is kept, "
            "the rest stays in the mailbox."
        )

    def _refused(self, response: httpx.Response) -> str:
        code, message = _graph_error(response)
        status = response.status_code
        if status == 401:
            return (
                "Microsoft Graph did not accept the app's token even when new: check that m365_tenant_id is the "
                f"tenant of the mailbox {self.address} and that graph_url is right ({code or status})."
            )
        if status == 403 and ("AccessPolicy" in message or "RAOP" in message):
            return (
                f"An Exchange application access policy keeps the app out of the mailbox {self.address}: add the "
                "mailbox to the policy's group (New-/Set-ApplicationAccessPolicy) or give the app access to it."
            )
        if status == 403:
            return (
                f"Microsoft Graph refused the app access to the mailbox {self.address}: the app registration needs "
                "the Mail.ReadWrite application permission, with admin consent granted (API permissions)."
            )
        if status == 404 and code in ("ErrorInvalidUser", "MailboxNotEnabledForRESTAPI", "ResourceNotFound", ""):
            return (
                f"Microsoft Graph has no mailbox {self.address}: set graph_mailbox to the co-production mailbox's "
                "address."
            )
        if status >= 500:
            return (
                f"Microsoft Graph had a fault ({status} {code}): what was fetched is kept, the rest stays in the "
                "mailbox for the next fetch."
            )
        return f"Microsoft Graph refused a request ({status} {code}: {message or 'no reason given'})."

    # -- folders and messages -------------------------------------------------------------------

    def folder_id(self, name: str, create: bool = False) -> str:
        if name.upper() == "INBOX":  # Graph's well-known name for the Inbox, whatever its language
            return self.request("GET", "/mailFolders/inbox", params={"$select": "id"}).json()["id"]
        found = self._find_folder(name)
        if found:
            return found
        if not create:
            raise MailFetchError(f"The mailbox {self.address} has no folder '{name}': check the setting imap_folder.")
        try:
            return self.request("POST", "/mailFolders", json={"displayName": name}).json()["id"]
        except MailFetchError:
            found = self._find_folder(name)  # another fetch made it a moment ago (Graph: 409, it exists)
            if found:
                return found
            raise

    def _find_folder(self, name: str) -> str | None:
        wanted = name.replace("'", "''")
        url = "/mailFolders"
        params: dict | None = {"$filter": f"displayName eq '{wanted}'", "$select": "id,displayName"}
        while url:
            page = self.request("GET", url, params=params).json()
            for folder in page.get("value", []):
                if folder.get("displayName", "").casefold() == name.casefold():
                    return folder["id"]
            url, params = page.get("@odata.nextLink"), None
        return None

    def message_ids(self, folder: str) -> list[str]:
        ids: list[str] = []
        url = f"/mailFolders/{folder}/messages"
        params: dict | None = {"$select": "id", "$top": str(PAGE_SIZE)}
        while url:
            page = self.request("GET", url, params=params).json()
            ids.extend(item["id"] for item in page.get("value", []))
            url, params = page.get("@odata.nextLink"), None  # the next link carries the query already
        return ids

    def mime(self, message: str) -> bytes:
        return self.request("GET", f"/messages/{message}/$value").content

    def move(self, message: str, destination: str) -> None:
        self.request("POST", f"/messages/{message}/move", json={"destinationId": destination})


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _graph_error(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error", {})
        return str(error.get("code", "")), str(error.get("message", ""))
    except ValueError:
        return "", response.text[:200]


def _client(settings: Settings) -> httpx.Client:
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=str(settings.m365_ca_file)) if settings.m365_ca_file else True
    )
    return httpx.Client(verify=verify, timeout=settings.imap_timeout)


def open_mailbox(settings: Settings, client: httpx.Client) -> GraphMailbox:
    mailbox_address(settings)
    return GraphMailbox(settings, tokens_for(settings, graph_scope(settings.graph_url)), client)


def check(settings: Settings) -> None:
    """Get a token and read the source folder: what a fetch needs first."""
    with _client(settings) as client:
        open_mailbox(settings, client).folder_id(settings.imap_folder)


def fetch_mail(settings: Settings) -> FetchSummary:
    summary = FetchSummary(source=describe(settings))
    started = time.perf_counter()
    require_inbox(settings.inbox)
    ledger = ledger_for(settings)
    with _client(settings) as client:
        box = open_mailbox(settings, client)
        source = box.folder_id(settings.imap_folder)
        processed = box.folder_id(settings.imap_processed_folder, create=True)
        for message in box.message_ids(source):
            try:
                sha256 = keep(box.mime(message), settings, ledger, summary)
                box.move(message, processed)
            except MessageGone:
                log.info("message %s went from the folder while it was fetched: skipped", message[:16])
                continue
            summary.moved += 1
            log.info("fetched message %s (%s)", message[:16], sha256[:12])
    summary.seconds = time.perf_counter() - started
    return summary
