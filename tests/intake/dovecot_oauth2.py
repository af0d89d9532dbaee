"""The tests' Dovecot (tests.fixtures.dovecot) with OAuth2 sign-in as well: XOAUTH2 and
OAUTHBEARER checked by Dovecot's oauth2 passdb against the introspection endpoint of the local
Microsoft 365 stand-in (tests.intake.m365_server). Password login stays, for the tests' own
client that puts messages in and counts them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fixtures.dovecot import Dovecot


class OAuth2Dovecot(Dovecot):
    def __init__(self, introspection_url: str, ca_file: Path) -> None:
        super().__init__()
        self.introspection_url = introspection_url
        self.token_ca_file = ca_file

    def _configure(self) -> Path:
        config = super()._configure()
        oauth2 = self.root / "dovecot-oauth2.conf.ext"
        oauth2.write_text(
            f"introspection_mode = post\n"
            f"introspection_url = {self.introspection_url}\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
            f"tls_ca_cert_file = {self.token_ca_file}\n"
        )
        oauth2.chmod(0o644)
        text = config.read_text()
        text = text.replace("auth_mechanisms = plain login", "auth_mechanisms = plain login xoauth2 oauthbearer")
        text = text.replace("  driver = passwd-file\n", "  driver = passwd-file\n  mechanisms = plain login\n")
        text += f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {oauth2}
}}
"""
        config.write_text(text)
        return config

    def kick(self, user: str) -> None:
        """End the user's sessions, as Exchange Online does when their token expires."""
        subprocess.run(
            ["doveadm", "-c", str(self.root / "dovecot.conf"), "kick", user],
            check=True,
            capture_output=True,
        )
