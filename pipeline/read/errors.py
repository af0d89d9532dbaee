"""The one exception readers raise: a file that cannot be read, with the Problem code why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.problems import ProblemCode

if TYPE_CHECKING:
    from pipeline.read.sniff import Format


class UnreadableFile(Exception):
    def __init__(self, code: ProblemCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
        # what the bytes were taken for (set by pipeline.read.read_document): with the file's name,
        # the sender can be told that the file is not what its name says
        self.found: Format | None = None
