"""How `coforms web` is served: uvicorn, told which proxies may say who the client is.

Behind the council's reverse proxy every request comes from the proxy's address. Sign-in
throttling counts failures per client address, so the real one must come from the proxy's
X-Forwarded-For header, but only from a proxy named in the setting web_trusted_proxies: a
header from anyone else is ignored (anyone can send one)."""

from __future__ import annotations

import uvicorn

from pipeline.settings import Settings


def server_config(app, settings: Settings, port: int | None = None) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port if port is None else port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips=",".join(settings.web_trusted_proxies) or "",
    )
