"""Data protection: `coforms retention`, `coforms person`, `coforms erase`."""

from __future__ import annotations

from pipeline.cli.app import app  # noqa: F401
