"""The client's transport: TLS verified (with a private CA when given one), a short connect timeout, retries
with backoff for failures that may pass and none for refusals."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sdl_tracker.client.http import ClientError, Server, TooSlow, parse_server
from tests.client.fake_tracker import FakeTracker
from tests.client.repos import TOKEN, HookedRepo, environment, sdl

Repository = Callable[..., HookedRepo]


def _authority(folder: Path, name: str) -> tuple[Path, ssl.SSLContext]:
    """A private CA (its certificate written to `name`.pem) and a server context with a certificate it
    issued for 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # key_cert_sign, crl_sign
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(ca_key, hashes.SHA256())
    )
    bundle = folder / f"{name}.pem"
    bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = folder / f"{name}-server.pem"
    chain.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + leaf.public_bytes(serialization.Encoding.PEM)
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return bundle, context


@pytest.fixture
def https_tracker(tmp_path: Path) -> Iterator[tuple[FakeTracker, Path]]:
    """The stand-in behind TLS, and the bundle of the private CA that issued its certificate."""
    bundle, context = _authority(tmp_path, "private")
    stand_in = FakeTracker(TOKEN, tls=context).start()
    yield stand_in, bundle
    stand_in.stop()


def test_a_private_ca_is_trusted_when_given_and_only_then(
    https_tracker: tuple[FakeTracker, Path], tmp_path: Path
) -> None:
    tracker, bundle = https_tracker
    trusted = sdl("client", "--server", tracker.url, "--ca-bundle", str(bundle), "check")
    assert trusted.returncode == 0 and "token accepted; products it sees (1): PLC" in trusted.stdout
    from_environment = sdl(
        "client", "--server", tracker.url, "check", env=environment(SDL_TRACKER_CA_BUNDLE=str(bundle))
    )
    assert from_environment.returncode == 0, from_environment.stderr
    untrusted = sdl("client", "--server", tracker.url, "check")
    assert untrusted.returncode == 2 and untrusted.stderr.count("\n") == 1
    assert "certificate not trusted (" in untrusted.stderr and "pass --ca-bundle FILE" in untrusted.stderr
    other, _context = _authority(tmp_path, "other")
    wrong = sdl("client", "--server", tracker.url, "--ca-bundle", str(other), "check")
    assert wrong.returncode == 2 and "certificate not trusted" in wrong.stderr and "--ca-bundle" not in wrong.stderr


@pytest.mark.slow
def test_the_hooks_deliver_over_tls_with_the_bundle_given_at_install(
    https_tracker: tuple[FakeTracker, Path], repository: Repository
) -> None:
    tracker, bundle = https_tracker
    repo = repository()
    installed = repo.install(tracker.url, "--ca-bundle", str(bundle))
    assert "6 requirement ids cached" in installed.stdout
    sha, said, _took = repo.commit_hooked("over TLS\n\nSecurity-Requirement: CR 3.4\n")
    assert said == "" and tracker.shas() == {sha}


@pytest.fixture
def full_listener() -> Iterator[str]:
    """A loopback port whose queue of connections is full: a new connection is never accepted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname(), timeout=1)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    filler.close()
    listener.close()


def test_a_tracker_that_accepts_no_connection_is_away_after_the_connect_timeout(full_listener: str) -> None:
    started = time.monotonic()
    with pytest.raises(TooSlow, match=r"did not accept a connection within 0\.5 s"):
        Server(full_listener, TOKEN, connect_timeout=0.5).get_json("/products")
    assert time.monotonic() - started < 3
    result = sdl("client", "--server", full_listener, "--connect-timeout", "0.5", "--retries", "0", "check")
    assert result.returncode == 2 and "did not accept a connection within 0.5 s" in result.stderr


@pytest.mark.parametrize(
    ("fail", "options", "code", "statuses"),
    [
        ([503, 502], [], 0, [503, 502, 200]),  # retried twice, pausing 0.5 s then 1 s (and some jitter)
        ([429], [], 0, [429, 200]),
        ([503], ["--retries", "0"], 2, [503]),
        ([401], [], 2, [401]),  # a refusal is not retried
        ([404], [], 2, [404]),
    ],
)
def test_failures_that_may_pass_are_retried_with_backoff_and_refusals_are_not(
    tracker: FakeTracker, fail: list[int], options: list[str], code: int, statuses: list[int]
) -> None:
    tracker.fail_next = fail
    started = time.monotonic()
    result = sdl("client", "--server", tracker.url, *options, "check")
    assert result.returncode == code, result.stderr
    assert [status for _method, _path, status in tracker.requests] == statuses
    if statuses == [503, 502, 200]:
        assert time.monotonic() - started > 1.5


def test_parse_server() -> None:
    assert parse_server("HTTPS://tracker.example.com/sdl") == "https://tracker.example.com/sdl"
    assert parse_server("http://[::1]:8080") == "http://[::1]:8080"
    for bad, message in [
        ("http://10.0.0.1", "refusing plain http"),
        ("https://tracker.example.com:http", "bad port"),
        ("https://tracker.example.com/?x=1", "plain base URL"),
        ("", "no server"),
    ]:
        with pytest.raises(ClientError, match=message):
            parse_server(bad)
