"""The substantial-modification rules as a pure function: one example per rule, and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdl_tracker.modifications.rules import (
    CRYPTO,
    NETWORK,
    PRIVILEGED,
    UPDATE,
    CommitFacts,
    InterfaceFacts,
    major_line,
    modification_signals,
    name_forms,
    privileged_path,
    update_path,
)
from sdl_tracker.sboms.diff import Component, diff


def comp(
    position: int, name: str, version: str, *, ptype: str = "deb", ctype: str = "library", **more: Any
) -> Component:
    purl = more.pop("purl", f"pkg:{ptype}/debian/{name}@{version}" if ptype else "")
    return Component(position, None, ctype, "", name, version, purl=purl, **more)


BASE = [comp(0, "zlib", "1.3.1"), comp(1, "openssl", "1.1.1w"), comp(2, "busybox", "1.36.1")]


def signals(before: list[Component], after: list[Component], **kwargs: Any) -> list[Any]:
    return list(modification_signals(diff(before, after), **kwargs))


def keys(before: list[Component], after: list[Component], **kwargs: Any) -> list[str]:
    return [s.key for s in signals(before, after, **kwargs)]


def test_an_unchanged_release_gives_no_signal() -> None:
    assert signals(BASE, BASE) == []
    assert modification_signals(None) == ()
    assert (
        modification_signals(None, [], [InterfaceFacts("eth0", "network")], [InterfaceFacts("eth0", "network")]) == ()
    )


def test_a_patch_bump_of_openssl_gives_no_signal() -> None:
    after = [BASE[0], comp(1, "openssl", "1.1.1x"), BASE[2]]
    assert signals(BASE, after) == []
    three = [comp(1, "openssl", "3.0.13-1~deb12u1")]
    assert signals(three, [comp(1, "openssl", "3.0.14-1~deb12u2")]) == []
    assert signals(three, [comp(1, "openssl", "3.2.0-1")]) == []  # a minor line: not major


def test_openssl_1_1_to_3_0_is_a_major_change() -> None:
    after = [BASE[0], comp(1, "openssl", "3.0.0"), BASE[2]]
    found = signals(BASE, after)
    assert [(s.rule, s.key) for s in found] == [(CRYPTO, "crypto:major:pkg:deb/debian/openssl@1.1->3")]
    fact = found[0].components[0]
    assert (fact.name, fact.old_version, fact.new_version) == ("openssl", "1.1.1w", "3.0.0")
    assert "1.1.1w → 3.0.0" in found[0].summary
    # OpenSSL's old major lines are its first two numbers; a downgrade across one counts too.
    assert keys([comp(1, "openssl", "1.0.2u")], [comp(1, "openssl", "1.1.1a")]) == [
        "crypto:major:pkg:deb/debian/openssl@1.0->1.1"
    ]
    assert keys([comp(1, "openssl", "3.0.0")], [comp(1, "openssl", "1.1.1w")]) == [
        "crypto:major:pkg:deb/debian/openssl@3->1.1"
    ]


def test_major_lines_per_ecosystem() -> None:
    assert major_line("deb", "1:2.4.1-3") == (2,)  # epoch and revision dropped
    assert major_line("rpm", "3.0.7-27.el9") == (3,)
    assert major_line("apk", "3.1.4-r5") == (3,)
    assert major_line("npm", "0.4.1") == (0, 4)  # semver 0.x: the minor is the breaking line
    assert major_line("golang", "v2.1.0") == (2,)
    assert major_line(None, "2024.01") == (2024,)  # calendar versions: the year
    assert major_line("deb", "1.1.1w", openssl=True) == (1, 1)
    assert major_line(None, "latest") is None


def test_a_version_that_is_not_a_number_counts_as_a_major_change() -> None:
    assert keys([comp(1, "wolfssl", "stable")], [comp(1, "wolfssl", "5.6.6")]) == [
        "crypto:major:pkg:deb/debian/wolfssl@stable->5"
    ]


def test_a_new_mosquitto_is_a_new_network_facing_component() -> None:
    found = signals(BASE, [*BASE, comp(3, "mosquitto", "2.0.18")])
    assert [(s.rule, s.key) for s in found] == [(NETWORK, "network-facing:added:pkg:deb/debian/mosquitto")]
    assert "mosquitto 2.0.18 (MQTT broker or stack)" in found[0].summary
    assert found[0].components[0].new_version == "2.0.18"


@pytest.mark.parametrize(
    ("component", "rule"),
    [
        (comp(9, "openssh-server", "9.2p1"), NETWORK),  # a packaging suffix
        (comp(9, "libmodbus5", "3.1.10"), NETWORK),  # a soname
        (comp(9, "open62541", "1.3.8", ptype="generic"), NETWORK),
        (comp(9, "server-sdk", "0.6.12", purl="pkg:maven/org.eclipse.milo/server-sdk@0.6.12"), NETWORK),
        (comp(9, "paho-mqtt", "2.0.0", purl="pkg:pypi/paho-mqtt@2.0.0"), NETWORK),
        (comp(9, "dnsmasq", "2.89"), NETWORK),
        (comp(9, "net-snmp", "5.9.3", ptype=""), NETWORK),  # no purl: the name
        (comp(9, "libgnutls30", "3.7.9"), CRYPTO),
        (comp(9, "bcprov-jdk18on", "1.77", purl="pkg:maven/org.bouncycastle/bcprov-jdk18on@1.77"), CRYPTO),
        (comp(9, "crypto", "0.17.0", purl="pkg:golang/golang.org/x/crypto@v0.17.0"), CRYPTO),
        (comp(9, "sudo", "1.9.13"), PRIVILEGED),
        (comp(9, "swupdate", "2023.05"), UPDATE),
        (comp(9, "u-boot-fw-utils", "2023.04"), UPDATE),
    ],
)
def test_vocabulary_examples(component: Component, rule: str) -> None:
    assert [s.rule for s in signals(BASE, [*BASE, component])] == [rule]


def test_names_that_only_look_alike_give_no_signal() -> None:
    for component in (
        comp(9, "mongoose", "8.0.0", purl="pkg:npm/mongoose@8.0.0"),  # the MongoDB library, not the web server
        comp(9, "opener", "1.5.2", purl="pkg:npm/opener@1.5.2"),
        comp(9, "cron", "3.1.6", purl="pkg:npm/cron@3.1.6"),
        comp(9, "ring", "1.0.0", purl="pkg:npm/ring@1.0.0"),  # `ring` is a crypto crate in Cargo only
        comp(9, "expressive", "1.0.0", purl="pkg:npm/expressive@1.0.0"),
    ):
        assert signals(BASE, [*BASE, component]) == [], component


def test_name_forms() -> None:
    _, forms = name_forms(comp(0, "libssl1.1", "1.1.1w"))
    assert {"libssl1.1", "libssl", "debian/libssl1.1"} <= forms
    ptype, forms = name_forms(
        Component(0, None, "library", "", "x", "1", cpe="cpe:2.3:a:openbsd:openssh:9.2:*:*:*:*:*:*:*")
    )
    assert ptype is None and "openssh" in forms


def test_removed_crypto_and_update_components_and_algorithms() -> None:
    aes = Component(5, None, "cryptographic-asset", "", "AES-128-GCM", "")
    chacha = Component(6, None, "cryptographic-asset", "", "ChaCha20-Poly1305", "")
    before = [*BASE, comp(3, "rauc", "1.10"), aes]
    after = [BASE[0], BASE[2], chacha]
    assert keys(before, after) == [
        "crypto:algorithm-added:ChaCha20-Poly1305",
        "crypto:algorithm-removed:AES-128-GCM",
        "crypto:removed:pkg:deb/debian/openssl",
        "update-mechanism:removed:pkg:deb/debian/rauc",
    ]


def test_operating_system_and_device_driver_components() -> None:
    os11 = comp(7, "debian", "11.9", ctype="operating-system", ptype="")
    found = keys(BASE, [*BASE, os11, comp(8, "r8169", "1.0", ctype="device-driver", ptype="")])
    assert found == ["privileged-service:added:debian", "privileged-service:added:r8169"]
    assert keys([os11], [comp(7, "debian", "12.5", ctype="operating-system", ptype="")]) == [
        "privileged-service:major:debian@11->12"
    ]
    assert keys([os11], [comp(7, "debian", "11.10", ctype="operating-system", ptype="")]) == []


def test_a_commit_adding_a_service_file_gives_a_signal() -> None:
    commit = CommitFacts("firmware", "a" * 40, "Add the historian", ("src/historian.c", "systemd/historian.service"))
    found = list(modification_signals(None, [commit]))
    assert [(s.rule, s.key) for s in found] == [
        (PRIVILEGED, "privileged-service:path:firmware:systemd/historian.service")
    ]
    assert found[0].commits[0].paths == ("systemd/historian.service",)
    assert found[0].commits[0].sha == "a" * 40


def test_commits_on_one_folder_make_one_signal_with_every_commit() -> None:
    commits = [
        CommitFacts("fw", "1" * 40, "Let the operator restart", ("etc/sudoers.d/operator",)),
        CommitFacts("fw", "2" * 40, "Tighten", ("etc/sudoers.d/operator", "etc/sudoers.d/backup")),
    ]
    (signal,) = modification_signals(None, commits)
    assert signal.key == "privileged-service:path:fw:etc/sudoers.d/"
    assert [(c.sha[0], c.paths) for c in signal.commits] == [
        ("1", ("etc/sudoers.d/operator",)),
        ("2", ("etc/sudoers.d/operator", "etc/sudoers.d/backup")),
    ]


@pytest.mark.parametrize(
    ("path", "subject"),
    [
        ("etc/init.d/historian", "etc/init.d/"),
        ("rootfs/etc/inittab", "rootfs/etc/inittab"),
        ("usr/share/polkit-1/rules.d/50-fw.rules", "usr/share/polkit-1/"),
        ("lib/systemd/system/web.service.d/override.conf", "lib/systemd/system/web.service.d/"),
        ("etc/dbus-1/system.d/com.example.conf", "etc/dbus-1/system.d/"),
        ("android/config.fs", "android/config.fs"),
    ],
)
def test_privileged_paths(path: str, subject: str) -> None:
    found = privileged_path(path)
    assert found is not None and found[0] == subject


@pytest.mark.parametrize(
    ("path", "subject"),
    [
        ("meta-fw/recipes-bsp/u-boot/files/fw_env.config", "meta-fw/recipes-bsp/u-boot/"),
        ("src/ota/client.c", "src/ota/"),
        ("images/sw-description", "images/sw-description"),
        ("scripts/update_firmware.sh", "scripts/update_firmware.sh"),
        ("conf/system.conf.raucb", "conf/system.conf.raucb"),
    ],
)
def test_update_paths(path: str, subject: str) -> None:
    assert update_path(path) == subject


@pytest.mark.parametrize("path", ["src/main.c", "docs/quota.md", "src/bootstrap.js", "services/api.py"])
def test_paths_that_are_neither(path: str) -> None:
    assert privileged_path(path) is None and update_path(path) is None


def test_commit_subjects() -> None:
    commits = [
        CommitFacts("fw", "3" * 40, "Run the web server with CAP_NET_BIND_SERVICE", ("src/web.c",)),
        CommitFacts("fw", "4" * 40, "Sign OTA images with the release key", ("src/sign.c",)),
        CommitFacts("fw", "5" * 40, "Fix a typo in the manual", ("docs/manual.md",)),
    ]
    assert [s.key for s in modification_signals(None, commits)] == [
        f"privileged-service:commit:fw:{'3' * 40}",
        f"update-mechanism:commit:fw:{'4' * 40}",
    ]


def test_new_network_interfaces() -> None:
    before = [InterfaceFacts("Modbus", "network", "Modbus/TCP", 502), InterfaceFacts("Console", "serial")]
    after = [
        InterfaceFacts("modbus", "network", "Modbus/TCP", 502),  # names compare without case
        InterfaceFacts("Console", "network", "telnet", 23),  # became network-facing
        InterfaceFacts("OPC UA", "network", "opc.tcp", 4840),
        InterfaceFacts("USB", "usb"),
    ]
    found = list(modification_signals(None, [], before, after))
    assert [s.key for s in found] == ["network-facing:interface:console", "network-facing:interface:opc ua"]
    assert found[0].interfaces[0].before == InterfaceFacts("Console", "serial")
    assert found[1].interfaces[0].before is None and "new network interface: OPC UA" in found[1].summary
    moved = [InterfaceFacts("Modbus", "network", "Modbus/TCP", 5020)]
    assert [s.summary for s in modification_signals(None, [], before, moved)] == [
        "network interface changed protocol or port: Modbus (network, Modbus/TCP 5020)"
    ]


def test_two_copies_of_a_library_added_make_one_signal() -> None:
    (signal,) = signals(BASE, [*BASE, comp(3, "mosquitto", "2.0.18"), comp(4, "mosquitto", "2.0.11")])
    assert sorted(f.new_version for f in signal.components) == ["2.0.11", "2.0.18"]


NAMES = ["zlib", "openssl", "mosquitto", "busybox", "swupdate", "libfoo", "sudo", "gnutls", "rauc", "expat"]
VERSIONS = ["0.9.8", "1.0.2", "1.1.1w", "1.2.3", "2.0", "3.0.0", "3.0.1", "10.1"]
components = st.lists(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(VERSIONS), st.sampled_from(["library", "operating-system"])),
    max_size=8,
).map(lambda rows: [comp(i, name, version, ctype=ctype) for i, (name, version, ctype) in enumerate(rows)])
commit_sets = st.lists(
    st.builds(
        CommitFacts,
        st.just("fw"),
        st.text("0123456789abcdef", min_size=40, max_size=40),
        st.sampled_from(["Fix", "Add OTA", "setuid helper", "Docs"]),
        st.lists(st.sampled_from(["a.c", "x.service", "etc/sudoers.d/a", "ota/b.c", "docs/update.md"]), max_size=3).map(
            tuple
        ),
    ),
    max_size=4,
    unique_by=lambda c: c.sha,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(components, commit_sets)
def test_properties(rows: list[Component], commits: list[CommitFacts]) -> None:
    same = modification_signals(diff(rows, rows))
    assert same == ()  # a release against itself changes nothing
    found = modification_signals(diff([], rows), commits)
    assert found == modification_signals(diff([], rows), list(reversed(commits)))  # commit order does not matter
    assert len({s.key for s in found}) == len(found)  # one signal per key
    for signal in found:
        assert signal.key.startswith(f"{signal.rule}:") and signal.summary
        assert signal.components or signal.commits or signal.interfaces  # evidence behind every signal
