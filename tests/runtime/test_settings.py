"""Source settings: headers as JSON or lines, credentials from files, clear errors, no secrets shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from app.cli import cli
from app.runtime.settings import Settings
from app.runtime.wiring import source_config
from app.sources.credentials import Credential, CredentialError, auth_headers

SECRET = "tok-7c1e9f"


def settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def message(**values: object) -> str:
    with pytest.raises(ValidationError) as raised:
        settings(**values)
    return str(raised.value)


@pytest.mark.parametrize(
    "given",
    [
        '{"X-Scope-OrgID": "team-a", "X-Api-Key": "k1"}',
        "X-Scope-OrgID: team-a\nX-Api-Key: k1\n",
        {"X-Scope-OrgID": "team-a", "X-Api-Key": "k1"},  # a TOML table
    ],
)
def test_headers_are_json_or_name_value_lines(given: object) -> None:
    config = source_config(settings(prometheus_headers=given))
    assert config.headers == {"X-Scope-OrgID": "team-a", "X-Api-Key": "k1"}


def test_headers_come_from_the_environment_as_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULTLINE_PROMETHEUS_HEADERS", "X-Scope-OrgID: tenant-1")
    assert source_config(Settings()).headers == {"X-Scope-OrgID": "tenant-1"}


def test_a_bad_header_is_named_without_its_value() -> None:
    with pytest.raises(ValidationError) as raised:
        settings(prometheus_headers=f"X-Scope-OrgID: a\nAuthorization {SECRET}")
    (detail,) = raised.value.errors(include_url=False)  # what the commands print
    assert "line 2 is not `Name: value`" in detail["msg"]
    assert SECRET not in detail["msg"]


def test_credentials_from_files_are_read_and_reread_when_rotated(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(SECRET + "\n")
    config = source_config(settings(prometheus_bearer_token_file=token))
    assert config.bearer_token is not None
    assert auth_headers(config.bearer_token, None) == {"Authorization": f"Bearer {SECRET}"}
    token.write_text("rotated-token-value\n")
    assert auth_headers(config.bearer_token, None)["Authorization"] == "Bearer rotated-token-value"
    password = tmp_path / "password"
    password.write_text("pw\n")
    basic = source_config(settings(prometheus_username="reader", prometheus_password_file=password))
    assert auth_headers(None, basic.basic_auth) == {"Authorization": "Basic cmVhZGVyOnB3"}


def test_a_credential_file_that_disappears_names_the_setting_and_path(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(SECRET)
    credential = Credential(file=token, setting="FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE")
    token.unlink()
    with pytest.raises(CredentialError, match=f"FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE {token}"):
        credential.read()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"prometheus_bearer_token_file": "/nonexistent/token"},
            "FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE: cannot read /nonexistent/token: "
            "No such file or directory",
        ),
        (
            {"prometheus_ca_file": "/nonexistent/ca.pem"},
            "FAULTLINE_PROMETHEUS_CA_FILE: cannot read /nonexistent/ca.pem",
        ),
        (
            {"prometheus_bearer_token": "a", "prometheus_bearer_token_file": __file__},
            "give FAULTLINE_PROMETHEUS_BEARER_TOKEN or FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE",
        ),
        (
            {"prometheus_bearer_token": "a", "prometheus_username": "u"},
            "give FAULTLINE_PROMETHEUS_BEARER_TOKEN or FAULTLINE_PROMETHEUS_USERNAME",
        ),
        (
            {"prometheus_password": "p"},
            "a Prometheus password needs FAULTLINE_PROMETHEUS_USERNAME",
        ),
        (
            {"prometheus_key_file": __file__},
            "FAULTLINE_PROMETHEUS_KEY_FILE needs FAULTLINE_PROMETHEUS_CERT_FILE",
        ),
        ({"prometheus_kind": "thanos"}, "'prometheus' or 'victoriametrics'"),
        (
            {"prometheus_url": "http://u:p@host", "prometheus_bearer_token": "t"},
            "credentials in FAULTLINE_PROMETHEUS_URL and in the token or username settings",
        ),
    ],
)
def test_invalid_source_settings_say_what_to_fix(values: dict[str, str], expected: str) -> None:
    assert expected in message(**values)


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n")
    assert f"FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE: {empty} is empty" in message(
        prometheus_bearer_token_file=empty
    )


def test_the_command_names_the_setting_and_the_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "token"
    result = CliRunner().invoke(
        cli,
        ["validate", str(tmp_path)],
        env={"FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE": str(missing)},
    )
    assert result.exit_code == 2
    assert "FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE" in result.stderr
    assert str(missing) in result.stderr.replace("\n", "")


def test_no_secret_shows_in_the_settings_or_the_source_config(tmp_path: Path) -> None:
    values = settings(
        prometheus_username="reader",
        prometheus_password=SECRET,
        prometheus_headers={"X-Api-Key": SECRET, "X-Scope-OrgID": "team-a"},
    )
    config = source_config(values)
    for shown in (repr(values), str(values), repr(config), str(config.basic_auth)):
        assert SECRET not in shown


def test_sources_in_order_options_environment_file_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What pydantic-settings did, read by hand: environment names in any case over the TOML
    file (a missing file is no file), given values over both, tables merged key by key."""
    file = tmp_path / "faultline.toml"
    file.write_text(
        'port = 9001\nhost = "0.0.0.0"\nstale_after = "10m"\nunknown = 1\n'
        'prometheus_headers = {A = "1", B = "2"}\n'
    )
    monkeypatch.setenv("FAULTLINE_SETTINGS_FILE", str(file))
    monkeypatch.setenv("faultline_Port", "9100")
    loaded = Settings(prometheus_headers={"C": "3"})
    assert (loaded.port, loaded.host, loaded.stale_after) == (9100, "0.0.0.0", 600)
    assert set(loaded.prometheus_headers) == {"A", "B", "C"}
    assert Settings(port=9200).port == 9200
    monkeypatch.setenv("FAULTLINE_SETTINGS_FILE", str(tmp_path / "missing.toml"))
    assert (Settings().port, Settings().host) == (9100, "127.0.0.1")
    monkeypatch.delenv("faultline_Port")
    monkeypatch.setenv("FAULTLINE_PORT", "none")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_the_global_cap_on_groups_comes_from_the_environment_and_reaches_the_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.runtime.wiring import engine_config  # noqa: PLC0415

    assert engine_config(settings()).max_groups_total == 10_000
    monkeypatch.setenv("FAULTLINE_MAX_GROUPS_TOTAL", "2500")
    assert engine_config(settings()).max_groups_total == 2500
    monkeypatch.setenv("FAULTLINE_MAX_GROUPS_TOTAL", "0")
    assert "max_groups_total" in message()
