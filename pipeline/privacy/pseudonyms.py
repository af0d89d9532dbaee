"""Stable pseudonyms for residents' names: "Person 3f9a1c2b".

A name kept longer than the setting retention_names_years is replaced by a pseudonym made from
the person's name key (pipeline.validate.names.person_key: "MARGARET HUGHES" and
"Margaret  Hughes" are one person) with a keyed HMAC. The same person gets the same pseudonym
on every form, so finance's totals per recipient group as before; without the key (the file
OUTPUTS/privacy.key, private to the pipeline's account, made on first use) nobody can work out
which name a pseudonym stands for by trying names.

An erased person gets a random pseudonym instead (`erased_pseudonym`): not even the key links it
back to the name.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from pipeline.files import PRIVATE_FILE, private_dir
from pipeline.validate.names import person_key

KEY_FILE = "privacy.key"
KEY_BYTES = 32
_DIGITS = 8  # hex digits: 4 billion pseudonyms, so two people in a council's few thousand do not meet
PSEUDONYM = re.compile(rf"^Person [0-9a-f]{{{_DIGITS}}}$")


def key_path(outputs: Path) -> Path:
    return outputs / KEY_FILE


def existing_key(outputs: Path) -> bytes | None:
    """The key, or None when no name has been pseudonymised yet (no key was ever made)."""
    path = key_path(outputs)
    return path.read_bytes() if path.is_file() else None


def the_key(outputs: Path) -> bytes:
    """The key, made (random, private to this account) the first time it is needed."""
    key = existing_key(outputs)
    if key is not None:
        return key
    private_dir(outputs)
    key = secrets.token_bytes(KEY_BYTES)
    # O_EXCL: two processes making it at once cannot both win (the loser reads the winner's)
    try:
        fd = os.open(key_path(outputs), os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return key_path(outputs).read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key


def is_pseudonym(text: str | None) -> bool:
    return bool(text) and PSEUDONYM.match(text.strip()) is not None


def pseudonym(name: str, key: bytes) -> str:
    """The person's stable pseudonym (a pseudonym stays as it is)."""
    if is_pseudonym(name):
        return name.strip()
    digest = hmac.new(key, person_key(name).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"Person {digest[:_DIGITS]}"


def erased_pseudonym() -> str:
    """A pseudonym nothing links to the name it replaces."""
    return f"Person {secrets.token_hex(_DIGITS // 2)}"
