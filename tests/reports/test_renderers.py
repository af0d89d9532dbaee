"""The report renderers (processes forked from the parsers' fork server at the end of a run,
pipeline.reports.write) start light: what they are started with (their initializer) does not
bring the warehouse and SQLAlchemy, which only the run's own process uses. Each renderer used to
import pipeline.reports.write for its initializer, ~0.2 s of CPU apiece on a run of a few files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# run in a fresh interpreter, started as a run starts them: the fork server first (loading the
# readers), then the renderers; this file's top level is imported by the fork server too (as
# multiprocessing's __mp_main__), so it imports nothing there
PROBE = textwrap.dedent(
    """
    def loaded():
        import sys

        return {name: name in sys.modules for name in ("sqlalchemy", "pipeline.store.warehouse", "pipeline.read.pdf")}

    if __name__ == "__main__":
        import json
        import sys
        from pathlib import Path

        from pipeline.reports.write import _renderers
        from pipeline.runtime.parallel import warm_up

        warm_up(2, 10)
        with _renderers(2, Path(sys.argv[1])) as pool:
            print(json.dumps(pool.submit(loaded).result()))
    """
)


def test_a_report_renderer_starts_without_the_warehouse_libraries(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    done = subprocess.run(
        [sys.executable, str(tmp_path / "probe.py"), str(tmp)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}:{tmp_path}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["pipeline.read.pdf"]  # forked from the fork server, with the readers it loaded
    assert not loaded["sqlalchemy"]
    assert not loaded["pipeline.store.warehouse"]
