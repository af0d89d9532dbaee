"""Signing in as the council's app registration (pipeline/intake/m365.py) against the local
Microsoft 365 stand-in: each way it goes wrong is one plain sentence naming the setting to fix."""

from __future__ import annotations

import pytest

from pipeline.intake.m365 import IMAP_SCOPE, M365Tokens, tokens_for
from pipeline.intake.mail_ledger import MailFetchError
from pipeline.settings import Settings
from tests.intake.m365_server import SECRET, certificate_pem, free_port


def _refusal(**changes) -> str:
    settings = Settings().model_copy(update=changes)
    with pytest.raises(MailFetchError) as err:
        M365Tokens(settings, IMAP_SCOPE).token()
    message = str(err.value)
    assert SECRET not in message
    return message


def test_a_token_comes_for_the_secret_and_a_new_one_once_it_is_near_expiry(m365):
    tokens = tokens_for(Settings(), IMAP_SCOPE)
    first = tokens.token()
    assert m365.tenant.valid(first, "https://outlook.office365.com/")
    tokens.token()  # two-second tokens are within MSAL's five-minute margin: always fetched anew
    assert m365.tenant.issued == 2


def test_a_token_good_for_an_hour_is_reused_until_forgotten(m365):
    m365.tenant.advertised = 3600
    tokens = M365Tokens(Settings(), IMAP_SCOPE)
    assert tokens.token() == tokens.token()
    assert m365.tenant.issued == 1
    tokens.forget()
    tokens.token()
    assert m365.tenant.issued == 2


def test_a_revoked_secret_says_make_a_new_one(m365):
    m365.tenant.revoke_secret()
    assert _refusal() == (
        "Microsoft 365 refused the app's secret: it may have expired or been revoked; make a new one in the app "
        "registration and set m365_client_secret."
    )


def test_a_wrong_tenant_is_named(m365):
    message = _refusal(m365_tenant_id="not-our-tenant")
    assert "does not know the tenant 'not-our-tenant'" in message and "m365_tenant_id" in message


def test_an_unknown_client_id_is_named(m365):
    message = _refusal(m365_client_id="00000000-0000-0000-0000-000000000000")
    assert "no app with the client id 00000000-0000-0000-0000-000000000000" in message
    assert "m365_client_id" in message


def test_missing_settings_are_named(m365, monkeypatch):
    for name in ("COFORMS_M365_TENANT_ID", "COFORMS_M365_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    with pytest.raises(MailFetchError) as err:
        M365Tokens(Settings(), IMAP_SCOPE)
    assert "not set: m365_tenant_id, m365_client_secret or m365_certificate" in str(err.value)


def test_a_sign_in_server_that_does_not_answer_is_told_as_unreachable(m365):
    message = _refusal(m365_authority=f"https://127.0.0.1:{free_port()}")
    assert "could not be reached" in message and "m365_authority" in message


def test_a_sign_in_server_with_an_untrusted_certificate_says_set_m365_ca_file(m365):
    message = _refusal(m365_ca_file=None)
    assert "is not trusted" in message and "m365_ca_file" in message


def test_a_certificate_file_without_its_key_is_told(m365, workdir):
    _, cert_only = certificate_pem()
    (workdir / "cert.pem").write_bytes(cert_only)
    with pytest.raises(MailFetchError) as err:
        M365Tokens(Settings().model_copy(update={"m365_certificate": workdir / "cert.pem"}), IMAP_SCOPE)
    assert "must hold the private key" in str(err.value) and "m365_certificate" in str(err.value)
