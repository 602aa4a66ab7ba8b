"""What the substantial-modification rules look for: component names, CycloneDX types, paths and commit words.

Plain data, documented in docs/sboms.md ("Substantial-modification signals"). A name entry matches a component
when one of the component's name forms (rules.name_forms) equals it; `type:name` matches only purls of that
type, `namespace/*` any name in a namespace (a Maven group, an npm scope), and a trailing `*` any name that
begins with the rest.
"""

from __future__ import annotations

import re

# (a) Network servers and protocol stacks: a component that listens on, or speaks, a network.
NETWORK_COMPONENTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "nginx", "apache2", "httpd", "apache-httpd", "lighttpd", "boa", "thttpd", "mini-httpd", "uhttpd",
            "goahead", "civetweb", "generic:mongoose", "conan:mongoose", "github:cesanta/mongoose", "libmicrohttpd",
            "caddy", "org.apache.tomcat.embed/*",
            "tomcat", "org.eclipse.jetty/*", "io.undertow/*", "io.netty/*", "org.glassfish.grizzly/*",
            "npm:express", "npm:fastify", "npm:koa", "npm:@hapi/hapi", "pypi:gunicorn", "pypi:uvicorn",
            "pypi:waitress", "pypi:tornado", "pypi:aiohttp", "pypi:twisted",
        ),
        "web server",
    ),
    **dict.fromkeys(
        (
            "openssh", "openssh-server", "openssh-sshd", "dropbear", "libssh", "pypi:paramiko", "pypi:asyncssh",
            "com.jcraft/jsch", "org.apache.sshd/*",
        ),
        "SSH server or stack",
    ),
    **dict.fromkeys(
        (
            "mosquitto", "libmosquitto", "paho.mqtt.c", "paho.mqtt.cpp", "pypi:paho-mqtt", "org.eclipse.paho/*",
            "npm:mqtt", "npm:aedes", "emqx", "nanomq", "vernemq", "cargo:rumqttc", "cargo:rumqttd", "hivemq*",
        ),
        "MQTT broker or stack",
    ),
    **dict.fromkeys(
        (
            "open62541", "pypi:opcua", "pypi:asyncua", "npm:node-opcua", "org.eclipse.milo/*",
            "opcfoundation.netstandard.opc.ua*",
        ),
        "OPC UA stack",
    ),
    **dict.fromkeys(
        (
            "libmodbus", "pypi:pymodbus", "pypi:pymodbustcp", "pypi:umodbus", "com.ghgande/j2mod",
            "npm:modbus-serial", "npm:jsmodbus", "nmodbus*", "cargo:tokio-modbus",
        ),
        "Modbus stack",
    ),
    **dict.fromkeys(
        ("net-snmp", "snmpd", "libsnmp", "mini-snmpd", "pypi:pysnmp", "org.snmp4j/*"), "SNMP agent or stack"
    ),
    **dict.fromkeys(
        ("dnsmasq", "bind", "bind9", "unbound", "knot", "knot-resolver", "pdns", "pdns-recursor", "coredns"),
        "DNS server",
    ),
    **dict.fromkeys(
        ("isc-dhcp", "isc-dhcp-server", "isc-dhcp-client", "dhcp-server", "dhcp-client", "dhcpcd", "kea", "udhcpd"),
        "DHCP daemon",
    ),
    **dict.fromkeys(
        (
            "libiec61850", "lib60870", "opendnp3", "bacnet-stack", "p-net", "eipstackgroup/opener", "soem", "libcoap",
            "lwip", "picotcp", "freertos-plus-tcp", "netxduo", "grpc", "pypi:grpcio", "io.grpc/*", "libzmq",
            "zeromq",
        ),
        "industrial or network protocol stack",
    ),
    **dict.fromkeys(
        (
            "telnetd", "inetutils", "xinetd", "vsftpd", "proftpd", "pure-ftpd", "tftp-hpa", "atftp", "samba",
            "nfs-utils", "rpcbind", "avahi", "avahi-daemon", "cups", "ntp", "ntpsec", "chrony", "openntpd",
            "wpa-supplicant", "hostapd", "bluez", "connman", "networkmanager", "modemmanager", "openvpn",
            "strongswan", "libreswan", "wireguard-tools",
        ),
        "network daemon",
    ),
}  # fmt: skip

# (b) Cryptographic and TLS libraries.
CRYPTO_COMPONENTS: dict[str, str] = dict.fromkeys(
    (
        "openssl", "libssl", "libcrypto", "libressl", "boringssl", "aws-lc", "wolfssl", "wolfcrypt", "mbedtls",
        "mbed-tls", "polarssl", "gnutls", "libgnutls", "nss", "libnss", "libgcrypt", "nettle", "libnettle",
        "libsodium", "botan", "cryptopp", "libcrypto++", "crypto++", "libtomcrypt", "matrixssl", "s2n", "s2n-tls",
        "com.google.crypto.tink/*", "org.bouncycastle/*", "bouncycastle*", "portable.bouncycastle", "org.conscrypt/*",
        "pypi:cryptography", "pypi:pycryptodome", "pypi:pycryptodomex", "pypi:pyopenssl", "pypi:pynacl",
        "pypi:bcrypt", "npm:node-forge", "npm:crypto-js", "npm:jsrsasign", "npm:tweetnacl", "npm:elliptic",
        "cargo:ring", "cargo:rustls", "cargo:openssl", "cargo:aws-lc-rs", "golang.org/x/crypto",
        "github.com/cloudflare/circl", "tpm2-tss", "opensc", "softhsm", "libp11",
    ),
    "cryptographic library",
)  # fmt: skip
# OpenSSL before 3.0 numbered its major lines by their first two numbers (0.9.8, 1.0.2, 1.1.1).
OPENSSL_NAMES = frozenset({"openssl", "libssl", "libcrypto"})
CRYPTO_ASSET_TYPE = "cryptographic-asset"  # CycloneDX 1.6: an algorithm, certificate, key or protocol

# (c) Privileged services: init systems and service managers, privilege tools, root daemons, container runtimes.
PRIVILEGED_COMPONENTS: dict[str, str] = dict.fromkeys(
    (
        "systemd", "sysvinit", "initscripts", "openrc", "runit", "s6", "upstart", "busybox", "sudo", "doas",
        "opendoas", "polkit", "policykit-1", "dbus", "dbus-broker", "udev", "eudev", "deb:cron", "generic:cron",
        "cronie", "fcron", "shadow", "shadow-utils", "generic:docker", "rpm:docker", "docker.io", "docker-ce", "moby",
        "containerd", "runc", "crun", "podman", "lxc", "rsyslog", "syslog-ng", "sysklogd",
    ),
    "privileged service",
)  # fmt: skip
# CycloneDX types whose code runs with the platform's full rights.
PRIVILEGED_TYPES = {"operating-system": "operating system", "device-driver": "device driver"}

# (d) Update frameworks, bootloaders and the boot chain.
UPDATE_COMPONENTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "swupdate", "mender", "mender-client", "mender-update", "mender-connect", "mender-artifact", "rauc",
            "rauc-hawkbit-updater", "hawkbit*", "fwupd*", "libfwupd", "ostree", "libostree", "rpm-ostree",
            "aktualizr*", "swupd-client", "opkg",
        ),
        "update framework",
    ),
    **dict.fromkeys(
        (
            "u-boot", "u-boot-fw-utils", "u-boot-tools", "libubootenv", "uboot", "grub", "grub-efi*", "grub-pc",
            "barebox", "systemd-boot", "deb:shim", "rpm:shim", "shim-signed", "syslinux", "trusted-firmware-a",
            "arm-trusted-firmware", "edk2",
        ),
        "bootloader",
    ),
}  # fmt: skip

# (c) Paths of commits that add or change a privileged service, lower case; a pattern that ends at a folder
# (`(/|$)` matched `/`) makes that folder the signal's subject, else the file is.
PRIVILEGED_PATHS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), label)
    for pattern, label in (
        (r"(^|/)[^/]+\.(service|socket|timer|path)\.d(/|$)", "systemd drop-in"),
        (r"(^|/)[^/]+\.(service|socket|timer|path|preset)$", "systemd unit"),
        (r"(^|/)(init\.d|rc\.d|rc[0-6s]\.d)(/|$)", "init script"),
        (r"(^|/)(inittab|rc\.local)$", "init script"),
        (r"(^|/)sudoers\.d(/|$)", "sudoers rule"),
        (r"(^|/)(sudoers|doas\.conf)$", "sudoers rule"),
        (r"(^|/)polkit-1(/|$)", "polkit rule"),
        (r"\.pkla$", "polkit rule"),
        (r"(^|/)dbus-1/system\.d(/|$)", "D-Bus system policy"),
        (r"(^|/)(capability\.conf|fs_config[^/]*|config\.fs)$", "capabilities"),
    )
)
PRIVILEGED_WORDS = re.compile(
    r"\b(setuid|setgid|suid|sgid|setcap|capabilit(?:y|ies)|cap_[a-z_]+|sudoers?|polkit|doas|privileged"
    r"|privileges?|as root)\b",
    re.IGNORECASE,
)

# (d) Path segments (folders or file names, lower case) of update, OTA and bootloader work: a whole segment or
# its stem, a token of it (split at `-`, `_`, `.`), or a prefix.
UPDATE_SEGMENTS = frozenset(
    {"firmware-update", "fw-update", "software-update", "sw-update", "sw-description", "fw_env", "grub.d"}
)
UPDATE_TOKENS = frozenset(
    {
        "ota", "fota", "swupdate", "swu", "mender", "rauc", "raucb", "hawkbit", "fwupd", "ostree", "aktualizr",
        "bootloader", "bootloaders", "uboot", "grub", "grub2", "barebox", "bootchooser", "sysupgrade", "swupd",
        "update", "updates", "updater", "dfu",
    }
)  # fmt: skip
UPDATE_PREFIXES = ("u-boot",)
UPDATE_WORDS = re.compile(
    r"\b(ota|fota|firmware updates?|software updates?|update mechanism|bootloader|u-?boot|grub|swupdate|mender"
    r"|rauc|hawkbit|fwupd|ostree|secure boot|signed updates?|update signing)\b",
    re.IGNORECASE,
)

# Interface kinds that carry data to or from other devices: a new one is a new network interface.
NETWORK_INTERFACE_KINDS = frozenset({"network", "wireless", "fieldbus"})
