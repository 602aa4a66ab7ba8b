"""Demo SBOMs of the PLC firmware: written with cyclonedx-python-lib's model and serialisers, as a build
pipeline would, then imported through the same service as any upload."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cyclonedx.contrib.this.builders import this_component as cyclonedx_library
from cyclonedx.model import HashAlgorithm, HashType
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.output.xml import XmlV1Dot5
from packageurl import PackageURL
from sqlalchemy.orm import Session

from .auth import Principal
from .evidence.services import Upload
from .products.services import get_release_by_version
from .sboms.services import import_sbom

VENDOR = "Northwind Automation"


@dataclass(frozen=True)
class Part:
    """A third-party or own component of the firmware."""

    name: str
    version: str
    license: str  # an SPDX id, or an expression when it has a space
    supplier: str
    cpe_vendor: str = ""
    kind: ComponentType = ComponentType.LIBRARY
    depends_on: tuple[str, ...] = ()


# The firmware image of NW-PLC 5000 per release: what 4.2.0 upgraded is what the 2026 advisories asked for.
FIRMWARE_PARTS = {
    "4.1.0": [
        Part("linux", "5.15.120", "GPL-2.0-only", "kernel.org", "linux", ComponentType.OPERATING_SYSTEM),
        Part("u-boot", "2023.04", "GPL-2.0-or-later", "DENX", "denx", ComponentType.FIRMWARE),
        Part("busybox", "1.36.0", "GPL-2.0-only", "busybox.net", "busybox"),
        Part("openssl", "3.0.9", "Apache-2.0", "OpenSSL Foundation", "openssl"),
        Part("zlib", "1.2.13", "Zlib", "zlib project", "zlib"),
        Part("curl", "8.1.2", "curl", "curl project", "haxx", depends_on=("openssl", "zlib")),
        Part("libxml2", "2.11.4", "MIT", "GNOME", "xmlsoft", depends_on=("zlib",)),
        Part("sqlite", "3.42.0", "blessing", "SQLite", "sqlite"),
        Part("libmodbus", "3.1.10", "LGPL-2.1-or-later", "libmodbus project", "libmodbus"),
        Part("open62541", "1.3.5", "MPL-2.0", "open62541 project", "open62541", depends_on=("openssl",)),
        Part("lighttpd", "1.4.71", "BSD-3-Clause", "lighttpd project", "lighttpd", depends_on=("openssl", "zlib")),
        Part("dropbear", "2022.83", "MIT", "Matt Johnston", "dropbear_ssh_project", depends_on=("zlib",)),
        Part(
            "nwplc-runtime",
            "4.1.0",
            "LicenseRef-Northwind-Proprietary",
            VENDOR,
            kind=ComponentType.APPLICATION,
            depends_on=("open62541", "libmodbus", "sqlite", "libxml2", "openssl"),
        ),
    ],
}
# 4.2.0 took the upgrades the 2026 advisories asked for and replaced dropbear with OpenSSH.
UPGRADES_4_2 = {
    "linux": "5.15.148",
    "busybox": "1.36.1",
    "openssl": "3.0.13",
    "zlib": "1.3.1",
    "curl": "8.6.0",
    "libxml2": "2.12.5",
    "sqlite": "3.45.1",
    "open62541": "1.3.9",
    "lighttpd": "1.4.73",
    "nwplc-runtime": "4.2.0",
}
FIRMWARE_PARTS["4.2.0"] = [
    *(replace(p, version=UPGRADES_4_2.get(p.name, p.version)) for p in FIRMWARE_PARTS["4.1.0"] if p.name != "dropbear"),
    Part("openssh", "9.6p1", "BSD-2-Clause AND ISC", "OpenBSD", "openbsd", depends_on=("openssl", "zlib")),
]
WEB_ADMIN_PARTS = [
    Part("preact", "10.19.3", "MIT", "Preact team"),
    Part("chart.js", "4.4.1", "MIT", "Chart.js contributors"),
    Part(
        "nwplc-web-admin",
        "4.2.0",
        "LicenseRef-Northwind-Proprietary",
        VENDOR,
        kind=ComponentType.APPLICATION,
        depends_on=("preact", "chart.js"),
    ),
]


def _component(part: Part, purl_type: str) -> Component:
    licenses = (
        [LicenseExpression(part.license)]
        if " " in part.license or part.license.startswith("LicenseRef")
        else [DisjunctiveLicense(id=part.license)]
    )
    digest = hashlib.sha256(f"{part.name}@{part.version}".encode()).hexdigest()  # stands in for the file's hash
    return Component(
        name=part.name,
        version=part.version,
        type=part.kind,
        bom_ref=f"{part.name}@{part.version}",
        supplier=OrganizationalEntity(name=part.supplier),
        licenses=licenses,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=digest)],
        purl=PackageURL(type=purl_type, name=part.name, version=part.version),
        cpe=f"cpe:2.3:a:{part.cpe_vendor}:{part.name}:{part.version}:*:*:*:*:*:*:*" if part.cpe_vendor else None,
    )


def _bom(subject: Component, parts: list[Part], purl_type: str, generated: datetime) -> Bom:
    bom = Bom()
    bom.metadata.component = subject
    bom.metadata.timestamp = generated
    bom.metadata.tools.components.add(cyclonedx_library())
    components = {part.name: _component(part, purl_type) for part in parts}
    for component in components.values():
        bom.components.add(component)
    bom.register_dependency(subject, components.values())
    for part in parts:
        bom.register_dependency(components[part.name], [components[name] for name in part.depends_on])
    return bom


def firmware_sbom(version: str) -> bytes:
    """The firmware image's SBOM (CycloneDX 1.6 JSON)."""
    subject = Component(
        name="nw-plc-5000-firmware",
        version=version,
        type=ComponentType.FIRMWARE,
        bom_ref="firmware",
        supplier=OrganizationalEntity(name=VENDOR),
        # The product's own identity, which VEX documents name the release by.
        purl=PackageURL(type="generic", namespace="northwind", name="nw-plc-5000-firmware", version=version),
        cpe=f"cpe:2.3:o:northwind:nw-plc-5000_firmware:{version}:*:*:*:*:*:*:*",
    )
    generated = (
        datetime(2025, 11, 13, 9, 30, tzinfo=UTC) if version == "4.1.0" else datetime(2026, 6, 1, 16, 5, tzinfo=UTC)
    )
    return JsonV1Dot6(_bom(subject, FIRMWARE_PARTS[version], "generic", generated)).output_as_string(indent=2).encode()


def web_admin_sbom() -> bytes:
    """The web administration UI's SBOM for 4.2.0 (CycloneDX 1.5 XML, as its npm build writes it)."""
    subject = Component(name="nwplc-web-admin-ui", version="4.2.0", type=ComponentType.APPLICATION, bom_ref="web-ui")
    bom = _bom(subject, WEB_ADMIN_PARTS, "npm", datetime(2026, 6, 1, 15, 40, tzinfo=UTC))
    return XmlV1Dot5(bom).output_as_string(indent=2).encode()


def load_plc_sboms(session: Session, actor: Principal, product_id: int) -> int:
    """Import the firmware SBOMs of 4.1.0 and 4.2.0, and the web UI's of 4.2.0; returns how many."""
    documents = [
        ("4.1.0", "Firmware image", "nw-plc-5000-4.1.0.cdx.json", firmware_sbom("4.1.0")),
        ("4.2.0", "Firmware image", "nw-plc-5000-4.2.0.cdx.json", firmware_sbom("4.2.0")),
        ("4.2.0", "Web administration UI", "web-admin-4.2.0.cdx.xml", web_admin_sbom()),
    ]
    for version, title, filename, raw in documents:
        release = get_release_by_version(session, actor, product_id, version)
        import_sbom(session, actor, release.id, Upload(filename, "", io.BytesIO(raw)), title=title)
    return len(documents)
