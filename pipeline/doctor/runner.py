"""The check runner: the settings first (nothing else can be checked without them), then every
check in turn. A check is a small function that looks at one thing and returns a Finding: ok,
warning, failed (with the fix, in plain words) or skipped (with why). A check that itself breaks
is a failed finding naming the error, never a traceback that hides the other checks."""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from pipeline.settings import CONFIG_FILE_ENV, Settings


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Finding:
    """What one check found: `said` describes it, `fix` says what to do (empty when ok)."""

    status: Status
    check: str
    said: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def ok(check: str, said: str) -> Finding:
    return Finding(Status.OK, check, said)


def warning(check: str, said: str, fix: str) -> Finding:
    return Finding(Status.WARNING, check, said, fix)


def failed(check: str, said: str, fix: str) -> Finding:
    return Finding(Status.FAILED, check, said, fix)


def skipped(check: str, said: str) -> Finding:
    return Finding(Status.SKIPPED, check, said)


Check = Callable[[Settings], Finding]


def config_file() -> Path:
    """The settings file this process reads: COFORMS_CONFIG, else coforms.toml here."""
    return Path(os.environ.get(CONFIG_FILE_ENV, "coforms.toml")).absolute()


def load_settings(overrides: dict[str, object]) -> tuple[Settings | None, Finding]:
    """The settings and what the check of them found (no settings when they are not valid)."""
    name = "Settings"
    path = config_file()
    named = CONFIG_FILE_ENV in os.environ
    if named and not path.is_file():
        return None, failed(
            name,
            f"{CONFIG_FILE_ENV} names {path}, which is not a file.",
            f"Create {path}, or set {CONFIG_FILE_ENV} to the settings file's path.",
        )
    source = f"read from {path}" if path.is_file() else f"no {path.name} in {path.parent}: defaults"
    source += " and the COFORMS_* environment variables"
    unknown: list[str] = []
    if path.is_file():
        try:
            unknown = sorted(set(tomllib.loads(path.read_text(encoding="utf-8"))) - set(Settings.model_fields))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            return None, failed(name, f"{path} is not valid TOML: {exc}.", f"Correct {path} (see the README).")
        except OSError as exc:
            return None, failed(
                name, f"{path} cannot be read ({exc.strerror}).", "Let this account read it (chmod 640, group coforms)."
            )
    try:
        settings = Settings(**overrides)
    except Exception as exc:  # pydantic's ValidationError: each bad setting named
        errors = getattr(exc, "errors", None)
        problems = (
            "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in errors())
            if callable(errors)
            else str(exc)
        )
        return None, failed(
            name, f"a setting is not valid ({problems}).", f"Correct it in {path} or its COFORMS_* variable."
        )
    unknown_env = sorted(
        key
        for key in os.environ
        if key.startswith("COFORMS_") and key != CONFIG_FILE_ENV and key[8:].lower() not in Settings.model_fields
    )
    if unknown or unknown_env:
        names = [*(f"{n} (in {path.name})" for n in unknown), *unknown_env]
        return settings, warning(
            name,
            f"valid, {source}; but these name settings coforms does not know: {', '.join(names)}.",
            "Correct their spelling (the README lists every setting): as they are, they are ignored.",
        )
    return settings, ok(name, f"valid, {source}.")


def run_checks(overrides: dict[str, object] | None = None, *, schedule: bool = True) -> list[Finding]:
    """Every check of this deployment, in the order a person would fix them."""
    from pipeline.doctor import folders, mail, tools, warehouse
    from pipeline.doctor import schedule as prefect

    settings, first = load_settings(overrides or {})
    if settings is None:
        return [first]
    checks: list[Check] = [
        folders.check_inbox,
        folders.check_outputs,
        folders.check_disk_space,
        warehouse.check_warehouse,
        mail.check_mailbox_login,
        mail.check_smtp,
        tools.check_libreoffice,
        tools.check_ocr,
        functools.partial(prefect.check_prefect_server, schedule=schedule),
        functools.partial(prefect.check_last_run, schedule=schedule),
    ]
    return [first, *(run_one(check, settings) for check in checks)]


def run_one(check: Check, settings: Settings) -> Finding:
    try:
        return check(settings)
    except Exception as exc:
        name = getattr(check, "func", check).__name__.removeprefix("check_").replace("_", " ").capitalize()
        return failed(
            name,
            f"the check itself stopped on an error ({type(exc).__name__}: {exc}).",
            "This is a fault in coforms or an unusual set-up: send this line to whoever supports coforms.",
        )


def any_failed(findings: list[Finding]) -> bool:
    return any(f.status is Status.FAILED for f in findings)
