"""The review desk: `coforms web` serves it; `coforms users` manages its local accounts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pipeline.cli.app import OutputsOption, app, command, configure_logging, console, out, settings_for

users = typer.Typer(help="Local accounts of the review desk (coforms web).", no_args_is_help=True)
app.add_typer(users, name="users")


@command()
def web(outputs: OutputsOption = None) -> None:
    """Serve the review desk (settings web_host, web_port) until stopped with Ctrl+C."""
    import uvicorn

    from pipeline.web.app import create_app
    from pipeline.web.serving import server_config

    settings = settings_for(outputs=outputs)
    configure_logging(settings)
    console.print(f"The review desk is at http://{settings.web_host}:{settings.web_port}/ (stop with Ctrl+C).")
    uvicorn.Server(server_config(create_app(settings), settings)).run()


@users.command("add")
def add_user(
    name: str,
    role: Annotated[str, typer.Option("--role", help="admin, finance or viewer.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
    ] = False,
    outputs: OutputsOption = None,
) -> None:
    """Add a local account; the password is asked for (never shown, never stored: only its argon2 hash)."""
    from pipeline.web.accounts import AccountError
    from pipeline.web.app import accounts_for
    from pipeline.web.roles import Role

    if role not in {r.value for r in Role}:
        console.print(f"[bold red]The role must be admin, finance or viewer, not {role!r}.[/]", highlight=False)
        raise typer.Exit(1)
    settings = settings_for(outputs=outputs, outputs_must_exist=False)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts_for(settings).add_user(name, Role(role), password)
    except AccountError as exc:
        console.print(f"[bold red]Not done:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    out.print(f"Added {user.name} ({user.role}).", highlight=False)


@users.command("list")
def list_users(outputs: OutputsOption = None) -> None:
    """The accounts, their roles and how each signs in (a password, or the council's single sign-on)."""
    from pipeline.web.app import accounts_for

    accounts = accounts_for(settings_for(outputs=outputs)).users()
    if not accounts:
        console.print("There are no accounts yet: add one with coforms users add NAME --role admin.")
    for account in accounts:
        line = f"{account.user.name}\t{account.user.role}\t{account.signs_in_with}"
        # tab-separated as it is (rich would turn the tabs into spaces): scripts cut the columns
        typer.echo(line + ("\t(disabled)" if account.disabled else ""))


@users.command("disable")
def disable_user(name: str, outputs: OutputsOption = None) -> None:
    """Stop an account from signing in (its sessions end at once)."""
    from pipeline.web.accounts import AccountError
    from pipeline.web.app import accounts_for

    try:
        accounts_for(settings_for(outputs=outputs)).disable(name)
    except AccountError as exc:
        console.print(f"[bold red]Not done:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    out.print(f"{name} can no longer sign in.", highlight=False)
