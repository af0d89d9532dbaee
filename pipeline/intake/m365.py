"""Access tokens for the council's Microsoft 365 app registration (OAuth2 client credentials).

Where basic-auth IMAP is switched off, coforms signs in as an app (tenant, client id, and a
secret or a certificate) and presents an access token, which Microsoft makes valid for about an
hour. MSAL keeps the token in its cache and fetches a new one when the cached one is within five
minutes of expiring, so coforms asks for a token before every connection (IMAP) or request
(Graph): cheap while the token is good, fresh when it is not. When a server says a token is no
longer good before its time (revoked, clock skew), forget() drops it and the next ask fetches anew.

Every failure becomes a MailFetchError naming the setting to fix; secrets are never in a message.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.intake.mail_ledger import MailFetchError
from pipeline.settings import Settings

IMAP_SCOPE = "https://outlook.office365.com/.default"

# Microsoft's error codes (AADSTS...) that have a plain meaning for the person setting coforms up
_SECRET_REFUSED = (
    "Microsoft 365 refused the app's secret: it may have expired or been revoked; make a new one in the app "
    "registration and set m365_client_secret."
)
_CERTIFICATE_REFUSED = (
    "Microsoft 365 refused the app's certificate: upload its public part (the certificate in {path}) to the "
    "app registration under Certificates & secrets, or set m365_certificate to the certificate that is there."
)


def graph_scope(graph_url: str) -> str:
    """The Graph API's scope is its own address: graph.microsoft.com, or a national cloud's."""
    parts = urlsplit(graph_url)
    return f"{parts.scheme}://{parts.netloc}/.default"


class M365Tokens:
    """Tokens for one app registration and one scope (IMAP or Graph)."""

    def __init__(self, settings: Settings, scope: str):
        _require_settings(settings)
        self.settings = settings
        self.scope = scope
        self.tenant = settings.m365_tenant_id.strip()
        self.authority_host = urlsplit(settings.m365_authority).netloc
        self._credential = _credential(settings)
        self._app = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A token good for a while yet: MSAL's cached one, or a new one."""
        with self._lock:
            app = self._application()
            try:
                result = app.acquire_token_for_client(scopes=[self.scope])
            except Exception as exc:  # requests' errors: the network, the certificate, a timeout
                raise MailFetchError(self._unreachable(exc)) from exc
        if "access_token" not in result:
            raise MailFetchError(self._refusal(result))
        return result["access_token"]

    def forget(self) -> None:
        """The server refused a token MSAL still holds good: drop it, so the next token() is new."""
        with self._lock:
            if self._app is not None:
                self._app.remove_tokens_for_client()

    def _application(self):
        if self._app is not None:
            return self._app
        import msal
        from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

        settings = self.settings
        try:
            self._app = msal.ConfidentialClientApplication(
                settings.m365_client_id.strip(),
                client_credential=self._credential,
                authority=f"{settings.m365_authority.rstrip('/')}/{self.tenant}",
                # Microsoft's own sign-in hosts are known to MSAL; another (a test server, a
                # private gateway) must not be checked against Microsoft's list
                instance_discovery=None if self.authority_host in WELL_KNOWN_AUTHORITY_HOSTS else False,
                http_client=_http_client(settings),
            )
        except ValueError as exc:  # the tenant's OpenID configuration is not there
            raise MailFetchError(self._unknown_tenant()) from exc
        except Exception as exc:
            raise MailFetchError(self._unreachable(exc)) from exc
        return self._app

    def _unknown_tenant(self) -> str:
        return (
            f"Microsoft 365 does not know the tenant '{self.tenant}': set m365_tenant_id to the Directory "
            "(tenant) ID shown on the app registration's Overview page"
            + (
                ""
                if self.authority_host == "login.microsoftonline.com"
                else f" (and check m365_authority, now {self.settings.m365_authority})"
            )
            + "."
        )

    def _unreachable(self, exc: Exception) -> str:
        import requests

        host = self.authority_host
        if isinstance(exc, requests.exceptions.SSLError):
            return (
                f"The certificate of the Microsoft 365 sign-in server {host} is not trusted: for a private "
                "certificate, set m365_ca_file to its CA bundle (or check for a proxy that intercepts TLS)."
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return f"The Microsoft 365 sign-in server {host} did not answer in time: check the network or firewall."
        if isinstance(exc, requests.exceptions.ConnectionError):
            return (
                f"The Microsoft 365 sign-in server {host} could not be reached: check this machine's network "
                "(a proxy or firewall) and the setting m365_authority."
            )
        return f"Could not get a token from the Microsoft 365 sign-in server {host} ({type(exc).__name__})."

    def _refusal(self, result: dict) -> str:
        error = result.get("error", "")
        description = result.get("error_description", "") or ""
        codes = set(result.get("error_codes", []) or [])
        code = description.split(":", 1)[0].strip() if description.startswith("AADSTS") else ""
        if code.startswith("AADSTS"):
            codes.add(int(code[6:]) if code[6:].isdigit() else 0)
        if codes & {7000215, 7000222} or (error == "invalid_client" and self.settings.m365_certificate is None):
            return _SECRET_REFUSED
        if codes & {700027, 700024} or error == "invalid_client":
            return _CERTIFICATE_REFUSED.format(path=self.settings.m365_certificate)
        if codes & {700016} or error == "unauthorized_client":
            return (
                f"Microsoft 365 has no app with the client id {self.settings.m365_client_id} in tenant "
                f"{self.tenant}: set m365_client_id to the Application (client) ID on the app registration's "
                "Overview page."
            )
        if codes & {90002, 90023} or error == "invalid_tenant":
            return self._unknown_tenant()
        if codes & {500011, 70011} or error == "invalid_scope":
            return (
                f"Microsoft 365 refused the scope {self.scope}: the API it names is not registered in the tenant "
                "(for IMAP, the Office 365 Exchange Online service principal must exist)."
            )
        first_line = description.splitlines()[0] if description else "no reason given"
        return f"Microsoft 365 refused to give the app a token ({error}: {first_line})."


def _http_client(settings: Settings):
    """requests' session for MSAL, with a timeout, and trusting m365_ca_file when it is set: requests
    otherwise lets REQUESTS_CA_BUNDLE in the environment win over the session's own CA bundle."""
    import requests

    class Session(requests.Session):
        def request(self, *args, **kwargs):
            kwargs.setdefault("timeout", settings.imap_timeout)
            return super().request(*args, **kwargs)

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if settings.m365_ca_file:
                merged["verify"] = str(settings.m365_ca_file)
            return merged

    session = Session()
    session.mount("https://", requests.adapters.HTTPAdapter(max_retries=1))  # as MSAL's own session
    return session


def _require_settings(settings: Settings) -> None:
    missing = [name for name in ("m365_tenant_id", "m365_client_id") if not getattr(settings, name)]
    if settings.m365_client_secret is None and settings.m365_certificate is None:
        missing.append("m365_client_secret or m365_certificate")
    if missing:
        raise MailFetchError(
            "Signing in to Microsoft 365 needs the app registration's details; not set: " + ", ".join(missing) + "."
        )


def _credential(settings: Settings) -> str | dict:
    """The secret, or the certificate's key and certificate (MSAL works out its thumbprint)."""
    if settings.m365_certificate is None:
        return settings.m365_client_secret.get_secret_value()
    return _certificate_credential(settings.m365_certificate)


def _certificate_credential(path: Path) -> dict:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise MailFetchError(
            f"The certificate file {path} could not be read ({exc.strerror}): check the setting m365_certificate."
        ) from exc
    try:
        key = serialization.load_pem_private_key(pem, password=None)
        certificate = x509.load_pem_x509_certificate(pem)
    except (ValueError, TypeError) as exc:
        raise MailFetchError(
            f"The certificate file {path} must hold the private key (not password-protected) and the "
            "certificate, both in PEM form: check the setting m365_certificate."
        ) from exc
    if certificate.public_key().public_numbers() != key.public_key().public_numbers():
        raise MailFetchError(
            f"The private key in {path} does not belong to the certificate in it: check the setting m365_certificate."
        )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "private_key": key_pem,
        "public_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
    }


# One token source per app registration and scope for the life of the process: the scheduled
# service fetches every few minutes and reuses the hour-long token instead of asking each time.
_sources: dict[tuple, M365Tokens] = {}
_sources_lock = threading.Lock()


def tokens_for(settings: Settings, scope: str) -> M365Tokens:
    secret = settings.m365_client_secret.get_secret_value() if settings.m365_client_secret else ""
    certificate = settings.m365_certificate
    key = (
        settings.m365_authority,
        settings.m365_tenant_id,
        settings.m365_client_id,
        hashlib.sha256(secret.encode()).hexdigest(),  # a new secret: a new app object, no stale token
        str(certificate),
        certificate.stat().st_mtime_ns if certificate and certificate.exists() else None,
        str(settings.m365_ca_file),
        scope,
    )
    with _sources_lock:
        if key not in _sources:
            _sources[key] = M365Tokens(settings, scope)
        return _sources[key]
