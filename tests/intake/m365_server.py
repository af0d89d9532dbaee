"""A local stand-in for Microsoft 365, started by the tests: the Entra ID token endpoint (OAuth2
client credentials with a secret or a certificate), an introspection endpoint for Dovecot's
oauth2 passdb, and the Microsoft Graph mail endpoints coforms uses. HTTPS with a trustme CA.

Its answers follow Microsoft's documented shapes: the OpenID configuration per tenant, token
errors with AADSTS codes (90002 unknown tenant, 700016 unknown app, 7000215 wrong secret, 700027
unregistered certificate), Graph errors as {"error": {"code", "message"}}, @odata.nextLink paging
by $skip, a new message id after a move, 429 with Retry-After.
"""

from __future__ import annotations

import base64
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import trustme
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TENANT = "3f2c9a7e-1b4d-4c8e-9f60-2a7b5c1d0e93"
CLIENT_ID = "6d1e8b20-7a3c-4f15-b9d2-0c4e5a6f7b81"
SECRET = "coforms~app~secret~value"
GRAPH_SCOPE_SUFFIX = "/.default"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Token:
    expires_at: float
    scope: str


@dataclass
class Folder:
    id: str
    name: str
    messages: dict[str, bytes] = field(default_factory=dict)  # id -> MIME, in arrival order


@dataclass
class Tenant:
    """What the tests set and look at: the app registration, the tokens, the mailbox."""

    mailbox: str = "coproduction"  # IMAP user and Graph mailbox address
    secret: str = SECRET
    certificate_pem: bytes | None = None  # a registered certificate (client assertion sign-in)
    lifetime: float = 2.0  # how long a token really lasts
    advertised: int | None = None  # expires_in told to the client (None: the lifetime)
    tokens: dict[str, Token] = field(default_factory=dict)
    issued: int = 0
    introspected: int = 0
    graph_roles: set[str] = field(default_factory=lambda: {"Mail.ReadWrite"})
    access_policy_blocks: bool = False
    throttle_next: int = 0  # so many Graph requests get 429 with Retry-After
    retry_after: int = 1
    graph_log: list[tuple[float, int, str, str]] = field(default_factory=list)  # time, status, method, path
    folders: dict[str, Folder] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folders["inbox"] = Folder(f"AQMk{uuid.uuid4().hex}", "Inbox")

    def revoke_secret(self) -> None:
        """As when the secret is deleted in the app registration: new sign-ins fail; tokens already
        given out stay good until they expire (as in Entra ID)."""
        self.secret = "a-new-secret-the-app-does-not-have"

    def expire_all(self) -> None:
        for token in self.tokens.values():
            token.expires_at = 0

    def valid(self, value: str, scope_start: str) -> bool:
        token = self.tokens.get(value)
        return token is not None and token.expires_at > time.time() and token.scope.startswith(scope_start)

    # the Graph mailbox
    def deliver(self, *messages: bytes) -> None:
        for raw in messages:
            self.folders["inbox"].messages[f"AAMk{uuid.uuid4().hex}"] = raw

    def folder(self, name: str) -> Folder | None:
        return next((f for f in self.folders.values() if f.name.casefold() == name.casefold()), None)

    def count(self, name: str) -> int:
        folder = self.folder(name)
        return len(folder.messages) if folder else 0


class M365Server:
    def __init__(self, tenant: Tenant | None = None) -> None:
        self.tenant = tenant or Tenant()
        self.port = free_port()
        self.ca = trustme.CA()
        self.root = Path(__import__("tempfile").mkdtemp(prefix="coforms-m365-"))
        self.root.chmod(0o755)  # Dovecot's auth process (user dovecot) reads the CA file
        self.ca_file = self.root / "m365-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.ca_file.chmod(0o644)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> None:
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        pem = self.root / "server.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            ssl_certfile=str(pem),
            ssl_keyfile=str(pem),
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Microsoft 365 stand-in did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
            self._server.force_exit = True  # no waiting for clients' kept-alive connections
            self._thread.join(timeout=10)
            self._server = None
        __import__("shutil").rmtree(self.root, ignore_errors=True)

    def settings_env(self) -> dict[str, str]:
        return {
            "COFORMS_M365_TENANT_ID": TENANT,
            "COFORMS_M365_CLIENT_ID": CLIENT_ID,
            "COFORMS_M365_CLIENT_SECRET": SECRET,
            "COFORMS_M365_AUTHORITY": self.url,
            "COFORMS_M365_CA_FILE": str(self.ca_file),
            "COFORMS_GRAPH_URL": f"{self.url}/v1.0",
            "COFORMS_GRAPH_MAILBOX": self.tenant.mailbox,
        }

    # -- the app ------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{tenant}/v2.0/.well-known/openid-configuration", self.openid_configuration),
                Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
                Route("/introspect", self.introspect, methods=["POST"]),
                Route("/v1.0/users/{mailbox}/mailFolders", self.folders, methods=["GET", "POST"]),
                Route("/v1.0/users/{mailbox}/mailFolders/{folder}", self.get_folder),
                Route("/v1.0/users/{mailbox}/mailFolders/{folder}/messages", self.list_messages),
                Route("/v1.0/users/{mailbox}/messages/{message}/$value", self.message_mime),
                Route("/v1.0/users/{mailbox}/messages/{message}/move", self.move, methods=["POST"]),
            ]
        )

    # Entra ID ---------------------------------------------------------------------------------

    async def openid_configuration(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        if tenant != TENANT:
            return _aad_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        base = f"{self.url}/{tenant}"
        return JSONResponse(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            }
        )

    async def token(self, request: Request) -> Response:
        form = await request.form()
        tenant = self.tenant
        if request.path_params["tenant"] != TENANT:
            return _aad_error(400, "invalid_request", 90002, "Tenant not found.")
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("client_id") != CLIENT_ID:
            return _aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found in the directory '{TENANT}'.",
            )
        scope = str(form.get("scope", ""))
        if not scope.endswith(GRAPH_SCOPE_SUFFIX):
            return _aad_error(400, "invalid_scope", 1002012, "The provided value for scope is not valid.")
        if "client_assertion" in form:
            problem = self._assertion_problem(str(form["client_assertion"]))
            if problem:
                return _aad_error(401, "invalid_client", 700027, problem)
        elif form.get("client_secret") != tenant.secret:
            return _aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the "
                "request is the client secret value, not the client secret ID.",
            )
        value = secrets.token_urlsafe(32)
        tenant.tokens[value] = Token(time.time() + tenant.lifetime, scope)
        tenant.issued += 1
        expires_in = tenant.advertised if tenant.advertised is not None else max(1, round(tenant.lifetime))
        return JSONResponse(
            {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": value}
        )

    def _assertion_problem(self, assertion: str) -> str | None:
        registered = self.tenant.certificate_pem
        if registered is None:
            return "The certificate used to sign the client assertion is not registered on the application."
        cert = x509.load_pem_x509_certificate(registered)
        header = jwt.get_unverified_header(assertion)
        sent = str(header.get("x5t#S256", "")).replace("-", "+").replace("_", "/")  # MSAL sends base64 (padded)
        try:
            sent_digest = base64.b64decode(sent + "=" * (-len(sent) % 4))
        except ValueError:
            sent_digest = b""
        if sent_digest != cert.fingerprint(hashes.SHA256()):
            return "The certificate with identifier used to sign the client assertion is not registered on application."
        try:
            claims = jwt.decode(
                assertion,
                cert.public_key(),
                algorithms=["PS256", "RS256"],
                audience=f"{self.url}/{TENANT}/oauth2/v2.0/token",
                issuer=CLIENT_ID,
            )
        except jwt.PyJWTError as exc:
            return f"Client assertion contains an invalid signature ({type(exc).__name__})."
        return None if claims.get("sub") == CLIENT_ID else "Client assertion subject is wrong."

    async def introspect(self, request: Request) -> Response:
        """RFC 7662, as Dovecot's oauth2 passdb asks it (introspection_mode = post)."""
        form = await request.form()
        self.tenant.introspected += 1
        value = str(form.get("token", ""))
        if not self.tenant.valid(value, "https://outlook.office365.com/"):
            return JSONResponse({"active": False})
        return JSONResponse({"active": True, "username": self.tenant.mailbox, "client_id": CLIENT_ID})

    # Microsoft Graph --------------------------------------------------------------------------

    def _graph_refusal(self, request: Request) -> Response | None:
        tenant = self.tenant
        if tenant.throttle_next > 0:
            tenant.throttle_next -= 1
            return _graph_error(
                429,
                "TooManyRequests",
                "Application is over its MailboxConcurrency limit.",
                {"Retry-After": str(tenant.retry_after)},
            )
        value = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not tenant.valid(value, self.url):
            return _graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        if "Mail.ReadWrite" not in tenant.graph_roles:
            return _graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        if tenant.access_policy_blocks:
            return _graph_error(
                403,
                "ErrorAccessDenied",
                "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.",
            )
        if request.path_params["mailbox"] != tenant.mailbox:
            return _graph_error(
                404, "ErrorInvalidUser", f"The requested user '{request.path_params['mailbox']}' is invalid."
            )
        return None

    def _logged(self, request: Request, response: Response) -> Response:
        self.tenant.graph_log.append((time.monotonic(), response.status_code, request.method, request.url.path))
        return response

    async def folders(self, request: Request) -> Response:
        refusal = self._graph_refusal(request)
        if refusal:
            return self._logged(request, refusal)
        if request.method == "POST":
            name = (await request.json())["displayName"]
            if self.tenant.folder(name):
                return self._logged(
                    request, _graph_error(409, "ErrorFolderExists", "A folder with the specified name already exists.")
                )
            folder = Folder(f"AQMk{uuid.uuid4().hex}", name)
            self.tenant.folders[folder.id] = folder
            return self._logged(request, JSONResponse({"id": folder.id, "displayName": name}, status_code=201))
        wanted = request.query_params.get("$filter", "")
        folders = list(self.tenant.folders.values())
        if wanted:
            assert wanted.startswith("displayName eq '") and wanted.endswith("'"), wanted
            name = wanted[len("displayName eq '") : -1].replace("''", "'")
            folders = [f for f in folders if f.name == name]
        return self._logged(request, JSONResponse({"value": [{"id": f.id, "displayName": f.name} for f in folders]}))

    async def get_folder(self, request: Request) -> Response:
        refusal = self._graph_refusal(request)
        if refusal:
            return self._logged(request, refusal)
        key = request.path_params["folder"]
        folder = self._folder_by_id(key)
        if folder is None:
            return self._logged(
                request, _graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            )
        return self._logged(request, JSONResponse({"id": folder.id, "displayName": folder.name}))

    def _folder_by_id(self, key: str) -> Folder | None:
        if key.lower() == "inbox":
            return self.tenant.folders["inbox"]
        return next((f for f in self.tenant.folders.values() if f.id == key), None)

    async def list_messages(self, request: Request) -> Response:
        refusal = self._graph_refusal(request)
        if refusal:
            return self._logged(request, refusal)
        folder = self._folder_by_id(request.path_params["folder"])
        if folder is None:
            return self._logged(
                request, _graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            )
        top = int(request.query_params.get("$top", "10"))
        skip = int(request.query_params.get("$skip", "0"))
        ids = list(folder.messages)[skip : skip + top]
        body: dict = {"value": [{"id": i} for i in ids]}
        if skip + top < len(folder.messages):
            body["@odata.nextLink"] = str(request.url.include_query_params(**{"$skip": str(skip + top)}))
        return self._logged(request, JSONResponse(body))

    def _find(self, message: str) -> Folder | None:
        return next((f for f in self.tenant.folders.values() if message in f.messages), None)

    async def message_mime(self, request: Request) -> Response:
        refusal = self._graph_refusal(request)
        if refusal:
            return self._logged(request, refusal)
        message = request.path_params["message"]
        folder = self._find(message)
        if folder is None:
            return self._logged(
                request, _graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            )
        return self._logged(request, Response(folder.messages[message], media_type="text/plain"))

    async def move(self, request: Request) -> Response:
        refusal = self._graph_refusal(request)
        if refusal:
            return self._logged(request, refusal)
        message = request.path_params["message"]
        source = self._find(message)
        destination = self._folder_by_id((await request.json())["destinationId"])
        if source is None or destination is None:
            return self._logged(
                request, _graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            )
        new_id = f"AAMk{uuid.uuid4().hex}"  # Graph gives a moved message a new id
        destination.messages[new_id] = source.messages.pop(message)
        return self._logged(request, JSONResponse({"id": new_id, "parentFolderId": destination.id}, status_code=201))


def _aad_error(status: int, error: str, code: int, text: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {text} Trace ID: {uuid.uuid4()} Timestamp: 2026-11-29 10:00:00Z",
            "error_codes": [code],
            "timestamp": "2026-11-29 10:00:00Z",
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
        status_code=status,
    )


def _graph_error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def certificate_pem(common_name: str = "coforms-app") -> tuple[bytes, bytes]:
    """A self-signed certificate for the app: (PEM with key and certificate, PEM with the certificate)."""
    import datetime as dt

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem + cert_pem, cert_pem
