"""Reply drafts (OUTPUTS/replies/, with their earlier versions and the sent ones) that name a person."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

from pipeline.privacy.mentions import Person


def _text_of(path: Path) -> str:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    parts = [str(message.get(header, "")) for header in ("To", "Cc", "Subject")]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                parts.append(part.get_content())
            except (LookupError, ValueError):
                parts.append(part.get_payload(decode=True).decode("utf-8", "replace"))
    return "\n".join(parts)


def drafts_naming(outputs: Path, person: Person) -> list[Path]:
    folder = outputs / "replies"
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("*.eml") if path.is_file() and person.named_in(_text_of(path)))
