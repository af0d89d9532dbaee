"""Imported first by the parsers' fork server (pipeline.runtime.parallel), so that the fork server dies
with the run that started it, and tells what it forks its pid (pipeline.children). Importing
this module is its whole purpose."""

from __future__ import annotations

import os

from pipeline.children import FORK_SERVER_PID, die_with_parent

die_with_parent()
os.environ[FORK_SERVER_PID] = str(os.getpid())
