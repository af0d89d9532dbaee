"""The settings check (which file was read, what is wrong in it) and the runner around the checks."""

from __future__ import annotations

from pipeline.doctor.runner import Status, failed, load_settings, run_checks, run_one


def test_the_settings_file_read_is_named(workdir, monkeypatch):
    (workdir / "coforms.toml").write_text('inbox = "inbox"\n')
    settings, finding = load_settings({})
    assert settings is not None and finding.status is Status.OK
    assert finding.said == f"valid, read from {workdir / 'coforms.toml'} and the COFORMS_* environment variables."
    (workdir / "coforms.toml").unlink()
    _, finding = load_settings({})
    assert finding.status is Status.OK and f"no coforms.toml in {workdir}: defaults" in finding.said


def test_an_invalid_setting_fails_and_no_other_check_runs(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_WORKERS", "0")
    findings = run_checks()
    assert len(findings) == 1
    assert findings[0].status is Status.FAILED and "workers" in findings[0].said
    assert "COFORMS_*" in findings[0].fix


def test_a_settings_file_that_is_not_toml_fails(workdir, monkeypatch):
    (workdir / "coforms.toml").write_text("inbox = \n")
    _, finding = load_settings({})
    assert finding.status is Status.FAILED and "is not valid TOML" in finding.said


def test_a_missing_settings_file_named_by_coforms_config_fails(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_CONFIG", str(workdir / "etc" / "coforms.toml"))
    settings, finding = load_settings({})
    assert settings is None and finding.status is Status.FAILED
    assert "COFORMS_CONFIG names" in finding.said


def test_a_misspelt_setting_is_a_warning_naming_it(workdir):
    (workdir / "coforms.toml").write_text('imap_hots = "mail.camden.gov.uk"\ninbox = "inbox"\n')
    settings, finding = load_settings({})
    assert settings is not None and finding.status is Status.WARNING
    assert "imap_hots (in coforms.toml)" in finding.said and "ignored" in finding.fix


def test_a_misspelt_environment_variable_is_a_warning_naming_it(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_SMTP_PASWORD", "x")
    monkeypatch.setenv("COFORMS_SMTP_HOST", "mail.camden.gov.uk")
    _, finding = load_settings({})
    assert finding.status is Status.WARNING
    assert "COFORMS_SMTP_PASWORD" in finding.said and "COFORMS_SMTP_HOST" not in finding.said


def test_a_check_that_breaks_is_a_failed_finding_not_a_traceback(settings):
    def check_something(_settings):
        raise KeyError("surprise")

    finding = run_one(check_something, settings)
    assert finding == failed(
        "Something",
        "the check itself stopped on an error (KeyError: 'surprise').",
        finding.fix,
    )


def test_the_example_settings_file_for_the_services_is_valid_and_all_known(workdir, monkeypatch):
    from tests.conftest import ROOT

    monkeypatch.setenv("COFORMS_CONFIG", str(ROOT / "deploy" / "coforms.toml.example"))
    settings, finding = load_settings({})
    assert finding.status is Status.OK, finding
    assert str(settings.outputs) == "/var/lib/coforms/outputs"
