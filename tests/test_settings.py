from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pipeline.settings import Settings


def test_defaults(workdir):
    s = Settings()
    assert (s.inbox, s.outputs, s.schedule_cron, s.voucher_line_cap) == (
        Path("inbox"),
        Path("outputs"),
        "*/15 * * * *",
        Decimal("100"),
    )
    assert s.warehouse_path == Path("outputs/warehouse.duckdb")


def test_coforms_toml_in_the_working_directory(workdir):
    (workdir / "coforms.toml").write_text('inbox = "/srv/in"\nschedule_cron = "0 7 * * 1-5"\nvoucher_line_cap = 150\n')
    s = Settings()
    assert (s.inbox, s.schedule_cron, s.voucher_line_cap) == (Path("/srv/in"), "0 7 * * 1-5", Decimal("150"))


def test_environment_wins_over_the_file(workdir, monkeypatch):
    (workdir / "coforms.toml").write_text("voucher_line_cap = 150\n")
    monkeypatch.setenv("COFORMS_VOUCHER_LINE_CAP", "75.50")
    assert Settings().voucher_line_cap == Decimal("75.50")


def test_config_file_named_by_env(workdir, monkeypatch):
    other = workdir / "elsewhere.toml"
    other.write_text('outputs = "/srv/out"\n')
    monkeypatch.setenv("COFORMS_CONFIG", str(other))
    assert Settings().outputs == Path("/srv/out")


def test_every_setting_is_in_the_readme_table():
    from pathlib import Path

    from pipeline.settings import Settings

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in Settings.model_fields if f"`{name}`" not in table]
    assert missing == []
