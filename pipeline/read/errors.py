"""The one exception readers raise: a file that cannot be read, with the Problem code why."""

from __future__ import annotations

from pipeline.problems import ProblemCode


class UnreadableFile(Exception):
    def __init__(self, code: ProblemCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
