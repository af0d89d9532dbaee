"""Mail: the co-production mailbox accepts this deployment's login; the SMTP server accepts it too
when replies are sent (send_replies)."""

from __future__ import annotations

import smtplib
import socket
import ssl

from pipeline.doctor.runner import Finding, failed, ok, skipped
from pipeline.settings import Settings

SMTP_TIMEOUT = 20


def check_mailbox_login(settings: Settings) -> Finding:
    from pipeline.intake.mailbox import check_mailbox

    if settings.mail_source == "imap" and not settings.imap_host:
        return skipped(
            "Mailbox", "no mailbox is configured (imap_host unset): forms come through the inbox folder only."
        )
    where = (
        f"the Microsoft Graph mailbox {settings.graph_mailbox or settings.imap_user}"
        if settings.mail_source == "graph"
        else f"{settings.imap_user} at {settings.imap_host}:{settings.imap_port}"
    )
    try:
        check_mailbox(settings)
    except Exception as exc:  # MailFetchError says what is wrong, in words that name the setting
        return failed(
            "Mailbox",
            str(exc) or type(exc).__name__,
            "Correct the mail settings named above (coforms.toml; passwords and secrets in the secrets file), "
            "then run `coforms doctor` again.",
        )
    return ok("Mailbox", f"logged in to {where} and out again.")


def check_smtp(settings: Settings) -> Finding:
    check = "SMTP"
    if not settings.send_replies:
        return skipped(check, "send_replies is off: reply drafts are written for the admin, not sent.")
    if not settings.smtp_host:
        return failed(
            check,
            "send_replies is on but no smtp_host is set.",
            "Set smtp_host (and smtp_port, smtp_user), or turn send_replies off.",
        )
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        said = _smtp_login(settings)
    except smtplib.SMTPAuthenticationError:
        return failed(
            check,
            f"{where} refused the login of {settings.smtp_user}.",
            "Check smtp_user and smtp_password (in the secrets file).",
        )
    except socket.gaierror:
        return failed(check, f"the name {settings.smtp_host} could not be found (DNS).", "Check the setting smtp_host.")
    except ConnectionRefusedError:
        return failed(
            check, f"nothing answers at {where}.", "Check smtp_host and smtp_port, or whether the mail server is up."
        )
    except TimeoutError:
        return failed(check, f"{where} did not answer within {SMTP_TIMEOUT} seconds.", "Check the network or firewall.")
    except ssl.SSLCertVerificationError as exc:
        return failed(
            check,
            f"the certificate of {settings.smtp_host} is not trusted ({exc.verify_message}).",
            "For a private certificate, set smtp_ca_file to its CA bundle.",
        )
    except (ssl.SSLError, smtplib.SMTPNotSupportedError) as exc:
        return failed(
            check,
            f"TLS with {where} failed ({exc}).",
            "Check smtp_security: 'ssl' for port 465, 'starttls' for 587, and the port itself.",
        )
    except (smtplib.SMTPException, OSError) as exc:
        return failed(
            check, f"{where} answered with an error ({type(exc).__name__}: {exc}).", "Check the smtp_* settings."
        )
    return ok(check, f"{where}: {said}.")


def _smtp_login(settings: Settings) -> str:
    """Connect, secure the line as the settings say, and log in if a login is set (as sending does:
    pipeline.admin.replies.send_drafts); what happened, in words."""
    context = ssl.create_default_context(cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None)
    if settings.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        secured = {"ssl": "TLS", "starttls": "STARTTLS", "none": "no TLS"}[settings.smtp_security]
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            return f"connected ({secured}) and logged in as {settings.smtp_user}"
        smtp.noop()
        return f"connected ({secured}); no login is set (smtp_user, smtp_password), none was tried"
