"""The review desk's server time per page with a big warehouse (`make bench`, or `python -m bench.web`).

A warehouse is built by a real run over a few real forms (a held voucher sheet in Word, one in
Excel, a printed PDF), then grown to --forms submissions and --exceptions open exceptions with
rows written straight into the store (what a run would write, generated: running the pipeline over
10,000 forms to get them would take this bench many minutes and measure the run, not the desk).
Each page is then asked for --repeat times through the app in this process (Starlette's test client:
the server's own time, no network), signed in as the admin; the median and the slowest are
printed, against the target of 200 ms median.

    python -m bench.web [--forms 10000] [--exceptions 20000] [--repeat 15] [--backend postgresql]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from pipeline.runtime.run import run_pipeline
from pipeline.settings import Settings
from pipeline.store import database

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden" / "voucher"
REAL_FORMS = {
    "Vouchers workshop 3.docx": GOLDEN / "bad_amount_cap_unsigned_unit.docx",
    "Vouchers May.xlsx": GOLDEN / "libreoffice_bad_text_amounts_total.xlsx",
    "Vouchers printed.pdf": GOLDEN / "pdf_bad_amount_cap_unsigned_unit.pdf",
}
TARGET_MS = 200
PASSWORD = "bench password for the desk"


def _grow(settings: Settings, forms: int, exceptions: int) -> None:
    """Generated submissions (a third loaded, the rest held), each with its voucher sheet, and the
    open exceptions spread two to a held form, as many senders as a borough's staff."""
    first = 1000
    per_form = max(1, -(-exceptions // forms))
    engine = database.make_engine(database.warehouse_url(settings.warehouse))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO store.submissions (submission_id, form_type, source_file, sender, subject, received_at, "
                "sha256, status, project_name, loaded_at) "
                "SELECT :first + i, 'voucher', 'Vouchers ' || i || '.docx', 'staff' || (i % 700) || '@camden.gov.uk', "
                "'Vouchers for the workshop', TIMESTAMP '2024-01-01 09:00' + i * INTERVAL '37 minutes', "
                "md5(CAST(i AS VARCHAR)) || md5(CAST(i + 1 AS VARCHAR)), "
                "CASE WHEN i % 3 = 0 THEN 'loaded' ELSE 'held' END, 'Project ' || (i % 40), now() "
                "FROM generate_series(0, :n - 1) AS t(i)"
            ),
            {"first": first, "n": forms},
        )
        conn.execute(
            sa.text(
                "INSERT INTO store.voucher_forms SELECT :first + i, 'Project ' || (i % 40), 'Someone', 80.00 "
                "FROM generate_series(0, :n - 1) AS t(i)"
            ),
            {"first": first, "n": forms},
        )
        conn.execute(
            sa.text(
                "INSERT INTO store.problems (submission_id, problem_no, severity, code, field, location, message, "
                "value, state) "
                "SELECT :first + CAST(floor(i * 1.0 / :per) AS BIGINT) % :n, i % :per + 1, "
                "CASE WHEN i % 2 = 0 THEN 'error' ELSE 'warning' END, "
                "CASE WHEN i % 2 = 0 THEN 'invalid_amount' ELSE 'over_cap' END, 'lines.' || (i % 9 + 1) || '.amount', "
                "'table 1, row ' || (i % 9 + 2) || ', column 5', 'Row 3: the amount is not right', '£ten', 'open' "
                "FROM generate_series(0, :e - 1) AS t(i)"
            ),
            {"first": first, "n": forms, "e": exceptions, "per": per_form},
        )
    engine.dispose()


def _pages(client, warehouse_url: str) -> dict[str, str]:
    engine = database.make_engine(warehouse_url)
    with engine.connect() as conn:
        real = conn.execute(
            sa.text("SELECT submission_id FROM store.submissions WHERE source_file = 'Vouchers workshop 3.docx'")
        ).scalar()
    engine.dispose()
    return {
        "queue": "/queue",
        "queue, page 150": "/queue?page=150",
        "queue, by problem and sender": "/queue?code=over_cap&sender=staff12",
        "queue, by dates": "/queue?received_from=1/3/2024&received_to=31/3/2024",
        "a held Word form": f"/forms/{real}",
        "a generated form": "/forms/1500",
    }


def measure(settings: Settings, repeat: int) -> dict[str, tuple[float, float]]:
    from pipeline.web.app import accounts_for, create_app
    from pipeline.web.roles import Role
    from tests.web.conftest import signed_in

    accounts_for(settings).add_user("bench-admin", Role.ADMIN, PASSWORD)
    client = signed_in(create_app(settings), "bench-admin", PASSWORD)
    figures = {}
    for name, url in _pages(client, database.warehouse_url(settings.warehouse)).items():
        client.get(url)  # the first view renders and caches the original
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            answer = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"{url}: {answer.status_code}")
        figures[name] = (statistics.median(times), max(times))
    return figures


def run(forms: int, exceptions: int, repeat: int, warehouse_url: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "inbox").mkdir()
        for name, source in REAL_FORMS.items():
            shutil.copyfile(source, root / "inbox" / name)
        settings = Settings(
            inbox=root / "inbox", outputs=root / "outputs", settle_seconds=0, warehouse_url=warehouse_url
        )
        run_pipeline(settings)
        _grow(settings, forms, exceptions)
        return measure(settings, repeat)


def report(figures: dict, backend: str) -> None:
    for name, (median, slowest) in figures.items():
        verdict = "ok" if median <= TARGET_MS else f"over the {TARGET_MS} ms target"
        print(f"  {backend:10s} {name:30s} median {median:6.0f} ms, slowest {slowest:6.0f} ms  {verdict}")


def _migrate(env: dict) -> None:
    """A new PostgreSQL warehouse gets its schema first (`coforms migrate`), as a council's would."""
    import os
    import subprocess
    import sys

    coforms = str(Path(sys.executable).with_name("coforms"))
    with tempfile.TemporaryDirectory() as outputs:
        subprocess.run(
            [coforms, "migrate", "--outputs", outputs], env={**os.environ, **env}, check=True, capture_output=True
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forms", type=int, default=10_000)
    parser.add_argument("--exceptions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--backend", choices=["duckdb", "postgresql"], default="duckdb")
    args = parser.parse_args()
    print(f"review desk: {args.forms:,} forms, {args.exceptions:,} open exceptions ({args.backend}) ...", flush=True)
    if args.backend == "postgresql":
        from tests.postgres import new_database, throwaway_postgres

        with throwaway_postgres() as server_url:
            url = new_database(server_url)
            subprocess_env = {"COFORMS_WAREHOUSE_URL": url}
            _migrate(subprocess_env)
            report(run(args.forms, args.exceptions, args.repeat, url), args.backend)
    else:
        report(run(args.forms, args.exceptions, args.repeat), args.backend)


if __name__ == "__main__":
    main()
