"""In a real browser: a developer imports the real sample SBOM, searches and filters its components,
sees a refused file's reasons on the form, and downloads the original byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sdl_tracker.app_access import app_db
from tests.e2e.conftest import LiveServer
from tests.e2e.test_evidence_browser import sign_in_as
from tests.e2e.test_products_browser import _shot
from tests.factories import make_product, make_release, member
from tests.sboms.builders import SAMPLE, xml_bom

pytestmark = pytest.mark.browser


def test_import_search_filter_and_download_an_sbom(page: Any, live_server: LiveServer, tmp_path: Path) -> None:
    with app_db(live_server.app).unit_of_work() as session:
        product = make_product(session, "NW-Panel")
        release = make_release(session, product, "3.0.0")
        member(session, product, "developer", email="dev.sbom@example.com")
        product_id, release_id = product.id, release.id
    broken = tmp_path / "broken.cdx.xml"
    broken.write_bytes(xml_bom().replace(b'type="library"', b'type="gadget"', 1))

    sign_in_as(page, live_server, "dev.sbom@example.com")
    page.goto(f"{live_server.url}/products/{product_id}")
    page.click("a:has-text('SBOMs')")
    assert "No SBOM imported yet." in page.inner_text("main")
    page.goto(f"{live_server.url}/products/releases/{release_id}")
    page.click("a.button:has-text('SBOMs')")
    page.set_input_files("#file", str(broken))
    page.click("button:has-text('Import')")
    assert "not valid CycloneDX 1.6 XML" in page.inner_text(".flash-error")
    assert "/bom/components/component[1]" in page.inner_text(".field.has-error")
    _shot(page, "sbom-refused")

    fixed = tmp_path / "firmware.cdx.xml"
    fixed.write_bytes(xml_bom())
    page.set_input_files("#file", str(fixed))
    page.click("button:has-text('Import')")
    assert "imported: 3 components" in page.inner_text(".flash-success")
    page.select_option("select[name=type]", "file")
    page.click("button:has-text('Filter')")
    assert "1 matching" in page.inner_text("#components")
    assert "zlib.h" in page.inner_text("#components tbody") and "openssl" not in page.inner_text("#components tbody")

    page.click("nav.breadcrumbs a:has-text('SBOMs')")
    page.set_input_files("#file", str(SAMPLE))
    page.fill("#title", "Web UI")
    page.click("button:has-text('Import')")
    assert "SBOM “Web UI” imported: 1115 components." in page.inner_text(".flash-success")
    assert "CycloneDX 1.4 JSON" in page.inner_text("main") and "cyclonedx-npm" in page.inner_text("main")
    assert "1115 matching, page 1 of 12" in page.inner_text("#components")
    page.fill("input[name=q]", "helper-string")
    page.click("button:has-text('Filter')")
    assert "1 matching" in page.inner_text("#components")
    assert "@babel/helper-string-parser" in page.inner_text("#components tbody")
    _shot(page, "sbom-detail")
    with page.expect_download() as download_info:
        page.click("a:has-text('Download the original')")
    assert Path(download_info.value.path()).read_bytes() == SAMPLE.read_bytes()
