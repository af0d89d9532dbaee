"""(Being built for issue 20.)"""

from __future__ import annotations

routes: list = []
