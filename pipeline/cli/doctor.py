"""`coforms doctor`: is this deployment ready to run unattended?"""

from __future__ import annotations

from pipeline.cli.app import app  # noqa: F401
