"""A real SMTP server for tests (aiosmtpd) that keeps every message it receives."""

from __future__ import annotations

import socket

from aiosmtpd.handlers import Message


class CollectingHandler(Message):
    """aiosmtpd's message handler, keeping each message (an email.message.Message) in `received`."""

    def __init__(self):
        super().__init__()
        self.received = []

    def handle_message(self, message):
        self.received.append(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
