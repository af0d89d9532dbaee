"""The `coforms` application: its global options, and what every command shares (settings, the
log file, and failures told in one plain sentence with an exit code)."""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console

from pipeline.cli.errors import exit_code, plain_message
from pipeline.files import private_dir
from pipeline.settings import Settings

app = typer.Typer(
    help="Co-production forms: from the inbox to the warehouse and the reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # a failure is one plain sentence (see `command`); --debug shows the rest
)
console = Console(stderr=True)  # messages about the command itself
out = Console()  # what the command produces


@dataclass
class _Options:
    debug: bool = False


options = _Options()


@app.callback()
def global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="When something fails, show the full error (a traceback).")
    ] = False,
) -> None:
    options.debug = debug


InboxOption = Annotated[
    Path | None, typer.Option("--inbox", help="The inbox folder, where forms arrive (default: setting 'inbox').")
]
OutputsOption = Annotated[
    Path | None, typer.Option("--outputs", help="Folder of the warehouse and reports (default: setting 'outputs').")
]


class OutputsMissing(Exception):
    """A command that works on what runs made was pointed at a folder where nothing has run."""


def settings_for(
    inbox: Path | None = None, outputs: Path | None = None, *, outputs_must_exist: bool = True
) -> Settings:
    """The settings, with the command line's folders first. Only the commands that make the outputs
    folder (run, migrate, fetch) may create it: the others, run from the wrong folder, say so instead
    of leaving an empty 'outputs' behind."""
    overrides = {k: v for k, v in {"inbox": inbox, "outputs": outputs}.items() if v is not None}
    settings = Settings(**overrides)
    if settings.outputs.exists() and not settings.outputs.is_dir():
        raise OutputsMissing(
            f"{settings.outputs.absolute()} is a file, not a folder: give the outputs folder with --outputs "
            "(or the setting 'outputs')."
        )
    if outputs_must_exist and not settings.outputs.is_dir():
        raise OutputsMissing(
            f"There is no outputs folder at {settings.outputs.absolute()}: nothing has run there yet. "
            "Give the right folder with --outputs (or the setting 'outputs'), or run `coforms run` first."
        )
    return settings


_LOG_HANDLER = "coforms-file-log"


def configure_logging(settings: Settings) -> None:
    """File names and problem codes go to OUTPUTS/coforms.log; form contents never do."""
    os.umask(0o077)  # everything this process writes holds personal data: private to its owner
    logging.raiseExceptions = False  # a log that cannot be written (a full disk) is no reason to print a traceback
    private_dir(settings.outputs)
    log_file = settings.outputs / "coforms.log"
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _LOG_HANDLER]:
        root.removeHandler(old)
        old.close()
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.set_name(_LOG_HANDLER)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    os.chmod(log_file, 0o600)


def command(name: str | None = None):
    """Register a command whose expected failures (no server, a read-only folder, a full disk, a
    lock held...) end it with one plain sentence and an exit code: 1 failed, 2 another run is busy
    (try again later). The traceback goes to coforms.log, and to the screen with --debug."""

    def register(fn):
        @functools.wraps(fn)
        def with_plain_failures(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (typer.Exit, typer.Abort, click.exceptions.ClickException, KeyboardInterrupt):
                raise
            except Exception as exc:
                _fail(exc)

        app.command(name)(with_plain_failures)
        return fn

    return register


def _fail(exc: Exception) -> None:
    if any(handler.get_name() == _LOG_HANDLER for handler in logging.getLogger().handlers):
        logging.getLogger("pipeline.cli").error("the command failed", exc_info=exc)  # else: not on the screen
    if options.debug:
        console.print_exception()
    code = exit_code(exc)
    # soft_wrap: a path in the sentence stays whole, to be copied
    console.print(plain_message(exc), style="yellow" if code == 2 else "bold red", highlight=False, soft_wrap=True)
    raise typer.Exit(code) from exc
