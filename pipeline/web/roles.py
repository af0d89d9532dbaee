"""The three roles, and what each may do: checked on the server on every route (pipeline.web.guard)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # reviews forms, sees originals, acts (accept, reject, supersede, undo, correct)
    FINANCE = "finance"  # reads everything about vouchers, downloads the workbooks; no form actions
    VIEWER = "viewer"  # the summary page only


# where each role lands after signing in
HOME = {Role.ADMIN: "/queue", Role.FINANCE: "/finance", Role.VIEWER: "/summary"}
