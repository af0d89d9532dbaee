"""Expected failures in one plain sentence each, and the exit code that goes with them.

The exceptions named in _PLAIN already carry a sentence written for the person at the keyboard;
the others (the operating system's, the database driver's, the settings') are put in words here.
Anything else is a fault in coforms: it is named as such, with where to find the details.
"""

from __future__ import annotations

import errno

# exceptions whose message is already the plain sentence (by module and name: importing their
# modules here would load the warehouse's and the readers' libraries for every command)
_PLAIN = {
    "pipeline.cli.app.OutputsMissing": "",
    "pipeline.intake.inbox.InboxMissing": "",
    "pipeline.reports.write.ReportsNotWritten": "Some reports were not written: ",
    "pipeline.store.lock.RunInProgress": "",
    "pipeline.store.database.WarehouseNotMigrated": "",
    "pipeline.store.database.UnsupportedWarehouse": "",
    "pipeline.admin.actions.AdminError": "Not done: ",
    "pipeline.admin.actions.ActionDoneReportsNot": "",
    "pipeline.store.warehouse.CorrectionNotUndoneThisWay": "Not done: ",
    "pipeline.cli.operations.ServerUnreachable": "",
    "pipeline.runtime.run.NoWarehouse": "",
}
_BUSY = {"pipeline.store.lock.RunInProgress", "pipeline.store.database.WarehouseBusy"}


def _names(exc: BaseException) -> list[str]:
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in type(exc).__mro__]


def exit_code(exc: BaseException) -> int:
    """2: another run holds what this command needs (nothing was done; try again later); 1: failed."""
    return 2 if any(name in _BUSY for name in _names(exc)) else 1


def plain_message(exc: BaseException) -> str:
    for name in _names(exc):
        if name in _PLAIN:
            return _PLAIN[name] + str(exc)
    # an exception class may declare itself plain: `plain_prefix = "Not done: "` (or "") says that
    # its message is already written for the person at the keyboard
    prefix = getattr(type(exc), "plain_prefix", None)
    if isinstance(prefix, str):
        return prefix + str(exc)
    if "pipeline.store.database.WarehouseBusy" in _names(exc):
        return "A run is working on the warehouse: try again when it has finished."
    if any(name.startswith("pydantic_core") and name.endswith("ValidationError") for name in _names(exc)):
        return _bad_settings(exc)
    if any(name.startswith("sqlalchemy.exc.") for name in _names(exc)):
        first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if "No space left on device" in first_line:  # DuckDB's own file writes: no errno to go by
            return "The disk holding the warehouse is full: free some space and run again. Nothing is lost."
        return f"The warehouse database could not be used: {first_line}"
    if isinstance(exc, OSError):
        return _os_error(exc)
    return (
        f"coforms stopped on an error it does not expect ({type(exc).__name__}: {exc}). The details are in "
        "coforms.log in the outputs folder; run the command again with --debug to see them here."
    )


def _bad_settings(exc) -> str:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}" for error in exc.errors()
    )
    return f"A setting is not valid ({problems}). Check coforms.toml and the COFORMS_* environment variables."


def _os_error(exc: OSError) -> str:
    what = exc.filename or "a file"
    if exc.errno == errno.EROFS:
        return f"{what} is on a read-only disk or share: coforms cannot write there. Choose a writable folder."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"This account is not allowed to use {what}: check the folder's permissions."
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"The disk is full{where}: free some space and run again. Nothing is lost."
    if exc.errno == errno.ENOENT:
        return f"{what} does not exist: check the setting or the option that names it."
    if exc.errno == errno.ENOTDIR:
        return f"{what} is a file where a folder is needed: check the setting or the option that names it."
    if isinstance(exc, ConnectionError | TimeoutError):
        return f"A connection failed ({exc.strerror or type(exc).__name__}): check that the server is running."
    return f"{what}: {exc.strerror or type(exc).__name__}."
