"""Settings: defaults, environment, overrides, validation, the generated secret key."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from sdl_tracker import create_app
from sdl_tracker.app import smtp_relay
from sdl_tracker.config import ConfigError, load_or_create_secret_key, load_settings


def test_defaults_put_everything_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(str(tmp_path / "instance"), environ={})
    assert str((tmp_path / "instance").resolve()) == settings.DATA_DIR
    assert f"sqlite:///{tmp_path.resolve() / 'instance' / 'sdl-tracker.db'}" == settings.DATABASE_URL
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
    assert len(settings.SECRET_KEY) >= 32


def test_environment_then_overrides(tmp_path: Path) -> None:
    env = {
        "SDL_TRACKER_DATA_DIR": str(tmp_path / "env"),
        "SDL_TRACKER_MAX_UPLOAD_BYTES": "2048",
        "SDL_TRACKER_SECURE_COOKIES": "yes",
    }
    settings = load_settings(str(tmp_path / "i"), {"MAX_UPLOAD_BYTES": 4096}, environ=env)
    assert str((tmp_path / "env").resolve()) == settings.DATA_DIR
    assert settings.MAX_UPLOAD_BYTES == 4096  # the override mapping wins over the environment
    assert settings.SECURE_COOKIES is True


def test_client_variables_are_not_server_settings(tmp_path: Path) -> None:
    env = {"SDL_TRACKER_SERVER": "https://x", "SDL_TRACKER_TOKEN": "t"}
    load_settings(str(tmp_path), environ=env)


@pytest.mark.parametrize(
    ("env", "overrides", "named"),
    [
        ({"SDL_TRACKER_DATABSE_URL": "sqlite://"}, {}, "SDL_TRACKER_DATABSE_URL"),
        ({}, {"NO_SUCH": 1}, "NO_SUCH"),
        ({"SDL_TRACKER_MAX_UPLOAD_BYTES": "lots"}, {}, "MAX_UPLOAD_BYTES"),
        ({}, {"MAX_UPLOAD_BYTES": 10}, "MAX_UPLOAD_BYTES"),
        ({}, {"MAX_FORM_FIELD_BYTES": 65536}, "MAX_FORM_FIELD_BYTES"),
        ({"SDL_TRACKER_SECURE_COOKIES": "maybe"}, {}, "SECURE_COOKIES"),
        ({}, {"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({}, {"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({}, {"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({}, {"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({}, {"TESTING": "perhaps"}, "TESTING"),
        ({}, {"GIT_SCHEMES": "https,ext"}, "GIT_SCHEMES"),
        ({}, {"GIT_SCHEMES": "file,ext"}, "GIT_SCHEMES"),
        ({"SDL_TRACKER_GIT_SCHEMES": " , "}, {}, "GIT_SCHEMES"),
        ({}, {"SLOW_WRITE_MS": -1}, "SLOW_WRITE_MS"),
        ({"SDL_TRACKER_SLOW_WRITE_MS": "soon"}, {}, "SLOW_WRITE_MS"),
        ({}, {"SMTP_FROM": "tracker@example.com"}, "SMTP_HOST"),
        ({}, {"SMTP_HOST": "mail.example.com"}, "SMTP_FROM"),
        ({}, {"SMTP_HOST": "mail.example.com", "SMTP_FROM": "Tracker <t@example.com>"}, "SMTP_FROM"),
        ({}, {"SMTP_HOST": "mail.example.com", "SMTP_FROM": "t@example.com", "SMTP_SECURITY": "ssl"}, "SMTP_SECURITY"),
        ({}, {"SMTP_HOST": "m.example.com", "SMTP_FROM": "t@example.com", "SMTP_PORT": 70000}, "SMTP_PORT"),
        ({}, {"SMTP_HOST": "m.example.com", "SMTP_FROM": "t@example.com", "SMTP_USER": "t"}, "SMTP_USER"),
        (
            {},
            {
                "SMTP_HOST": "m.example.com",
                "SMTP_FROM": "t@example.com",
                "SMTP_USER": "t",
                "SMTP_PASSWORD": "p",
                "SMTP_SECURITY": "none",
            },
            "SMTP_SECURITY",
        ),
        ({"SDL_TRACKER_WEBHOOK_HTTP_LOOPBACK": "sometimes"}, {}, "WEBHOOK_HTTP_LOOPBACK"),
        ({"SDL_TRACKER_CSAF_GNUPGHOME": "/srv/gnupg"}, {}, "CSAF_KEY_FINGERPRINT"),
        ({}, {"CSAF_KEY_FINGERPRINT": "0123456789ABCDEF0123456789ABCDEF01234567"}, "CSAF_KEY_FINGERPRINT"),
        ({"SDL_TRACKER_CSAF_BASE_URL": "tracker.example.com"}, {}, "CSAF_BASE_URL"),
        ({}, {"CSAF_BASE_URL": "https://tracker.example.com/?x=1"}, "CSAF_BASE_URL"),
    ],
)
def test_bad_settings_fail_fast_naming_the_setting(
    tmp_path: Path, env: dict[str, str], overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(str(tmp_path), overrides, environ=env)
    message = str(caught.value)
    assert message.startswith(named) and "\n" not in message


@pytest.mark.parametrize(
    ("value", "remote"),
    [("file", set()), ("file,https", {"https"}), ("https, ssh", {"https", "ssh"}), ("git,http", {"git", "http"})],
)
def test_git_schemes_file_alone_means_no_remote_location(tmp_path: Path, value: str, remote: set[str]) -> None:
    settings = load_settings(str(tmp_path), environ={"SDL_TRACKER_GIT_SCHEMES": value})
    assert settings.git_schemes == remote


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="DATA_DIR"):
        load_settings(str(tmp_path), {"DATA_DIR": str(blocker / "sub")}, environ={})


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create_secret_key(tmp_path)
    assert load_or_create_secret_key(tmp_path) == first
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary files left


def test_concurrent_workers_agree_on_one_key(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(load_or_create_secret_key, [tmp_path] * 32))
    assert len(keys) == 1


def test_explicit_secret_key_writes_no_file(tmp_path: Path) -> None:
    load_settings(str(tmp_path), {"SECRET_KEY": "k" * 40}, environ={})
    assert not (tmp_path / "secret_key").exists()


def test_create_app_applies_settings(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": str(tmp_path), "MAX_UPLOAD_BYTES": 5000, "SECURE_COOKIES": True})
    assert app.config["MAX_CONTENT_LENGTH"] == 5000
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_importing_every_module_has_no_side_effect(tmp_path: Path) -> None:
    """Importing builds no app, opens no database and writes no file."""
    code = (
        "import pkgutil, importlib, sdl_tracker, sys\n"
        "for m in pkgutil.walk_packages(sdl_tracker.__path__, 'sdl_tracker.'):\n"
        "    importlib.import_module(m.name)\n"
        "import sqlalchemy.pool\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_trusted_proxies_decide_whose_headers_count(tmp_path: Path) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    direct = create_app({"DATA_DIR": str(tmp_path / "a")})
    assert not isinstance(direct.wsgi_app, ProxyFix)  # no proxy: X-Forwarded-For is ignored
    behind = create_app({"DATA_DIR": str(tmp_path / "b"), "TRUSTED_PROXIES": 2})
    assert isinstance(behind.wsgi_app, ProxyFix) and behind.wsgi_app.x_for == 2 and behind.wsgi_app.x_proto == 2
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        create_app({"DATA_DIR": str(tmp_path / "c"), "TRUSTED_PROXIES": 9})


def test_the_audit_witness_lies_outside_the_data_directory(tmp_path: Path) -> None:
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    settings = load_settings(
        str(data), {"AUDIT_WITNESS": str(elsewhere / ".." / "elsewhere" / "head.json")}, environ={}
    )
    assert str(elsewhere.resolve() / "head.json") == settings.AUDIT_WITNESS
    assert load_settings(str(data), environ={}).AUDIT_WITNESS == ""
    refusals = {
        str(data / "head.json"): "inside DATA_DIR",
        str(elsewhere / "missing" / "head.json"): "does not exist",
        str(elsewhere): "is a directory",
    }
    for witness, reason in refusals.items():
        with pytest.raises(ConfigError, match=reason) as caught:
            load_settings(str(data), environ={"SDL_TRACKER_AUDIT_WITNESS": witness})
        assert str(caught.value).startswith("AUDIT_WITNESS: ")


def test_flask_debug_in_the_environment_does_not_debug_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app({"DATA_DIR": str(tmp_path)})
    assert app.debug is False
    assert app.test_client().get("/login").status_code == 200  # and it still serves


def test_the_smtp_relay_comes_from_the_settings_and_its_password_is_never_shown(tmp_path: Path) -> None:
    environ = {
        "SDL_TRACKER_SMTP_HOST": "mail.example.com",
        "SDL_TRACKER_SMTP_FROM": "tracker@example.com",
        "SDL_TRACKER_SMTP_USER": "tracker",
        "SDL_TRACKER_SMTP_PASSWORD": "hunter2-relay",
    }
    settings = load_settings(str(tmp_path), environ=environ)
    assert settings.smtp_port == 587  # starttls's port unless one is given
    assert "hunter2" not in repr(settings)
    relay = smtp_relay(settings)
    assert relay is not None and (relay.host, relay.port, relay.security) == ("mail.example.com", 587, "starttls")
    assert "hunter2" not in repr(relay)
    assert smtp_relay(load_settings(str(tmp_path), environ={})) is None  # not configured: no e-mail
    tls = load_settings(str(tmp_path), {"SMTP_SECURITY": "tls"}, environ=environ)
    assert tls.smtp_port == 465
