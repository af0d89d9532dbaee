"""Fixtures shared by the Microsoft 365 mail tests."""

from __future__ import annotations

import pytest

from pipeline.intake import m365 as m365_tokens
from tests.intake.m365_server import M365Server, Tenant


@pytest.fixture(scope="module")
def server():
    """A local stand-in for Microsoft's sign-in and Graph servers, for one test module."""
    instance = M365Server()
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def m365(server, workdir, monkeypatch):
    """A fresh tenant on the server, no token kept from an earlier test, and the COFORMS_M365_*
    settings pointing at it."""
    server.tenant = Tenant()
    monkeypatch.setattr(m365_tokens, "_sources", {})  # no token kept from an earlier test's tenant
    for key, value in server.settings_env().items():
        monkeypatch.setenv(key, value)
    return server
