"""Component searches read stored keys: each component's folded name and purl identity, and every folded name
once. The import writes them; the migration that added them computes the same ones for stored components."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker import create_app, schema
from sdl_tracker.accounts.services import add_member, find_user, principal_for
from sdl_tracker.app_access import app_db
from sdl_tracker.evidence.services import Upload
from sdl_tracker.sboms.models import ComponentName, SbomComponent
from sdl_tracker.sboms.queries import where_is
from sdl_tracker.sboms.rules import MAX_KEY
from sdl_tracker.sboms.services import import_sbom
from tests.factories import OPERATOR, make_product, make_release, member
from tests.sboms.builders import dumps, json_bom

pytestmark = pytest.mark.db

BEFORE = "c1d2e3f40011"
NAMES = ["ΣΊΣΥΦΟΣ", "Straße-Codec", "İstanbul-tz", "x" * (MAX_KEY + 20)]


def _bom() -> dict[str, Any]:
    bom = json_bom(components=len(NAMES))
    for item, name in zip(bom["components"], NAMES, strict=True):
        item["name"] = name
    bom["components"][0]["purl"] = "pkg:PyPI/Sisyphus_Tools@2.0"  # identity: pypi/sisyphus-tools
    return bom


def _keys(session: Session) -> list[tuple[str, str, str]]:
    rows = session.execute(select(SbomComponent.name, SbomComponent.name_folded, SbomComponent.purl_key))
    return sorted((row.name, row.name_folded, row.purl_key) for row in rows)


def test_the_migration_computes_the_keys_the_import_writes(
    backend: str, fresh_database_url: Any, tmp_path: Path
) -> None:
    app = create_app({"DATABASE_URL": fresh_database_url(backend), "DATA_DIR": str(tmp_path / "data")})
    database = app_db(app)
    schema.upgrade(database)
    with database.unit_of_work() as session:
        release = make_release(session, make_product(session, "Codec"), "1.0")
        import_sbom(session, OPERATOR, release.id, Upload("bom.json", "", io.BytesIO(dumps(_bom()))), primary=True)
    with database.unit_of_work(read_only=True) as session:
        imported = _keys(session)
        names = set(session.scalars(select(ComponentName.name_folded)))
    assert {name: (folded, key) for name, folded, key in imported} == {
        "ΣΊΣΥΦΟΣ": ("σίσυφοσ", "pypi/sisyphus-tools"),  # a final sigma folds as any other
        "Straße-Codec": ("strasse-codec", "generic/org.example/lib1"),
        "İstanbul-tz": ("istanbul-tz", "generic/org.example/lib2"),
        "x" * (MAX_KEY + 20): ("x" * MAX_KEY, "generic/org.example/lib3"),
        "lib0-part.bin": ("lib0-part.bin", ""),  # the nested part has no purl
    }
    assert names == {folded for _, folded, _ in imported}

    schema.downgrade(database, BEFORE)
    schema.upgrade(database)
    with database.unit_of_work(read_only=True) as session:
        assert _keys(session) == imported
        assert set(session.scalars(select(ComponentName.name_folded))) == names
        found = where_is(session, OPERATOR, "σίσυφος")
        assert [hit.name for hit in found.items] == ["ΣΊΣΥΦΟΣ"]  # capitals and a final sigma fold alike
    database.engine.dispose()


def test_a_search_finds_names_by_any_part_and_purls_by_identity(session: Session) -> None:
    release = make_release(session, make_product(session, "Codec"), "1.0")
    import_sbom(session, OPERATOR, release.id, Upload("bom.json", "", io.BytesIO(dumps(_bom()))), primary=True)
    assert [hit.name for hit in where_is(session, OPERATOR, "STRASSE").items] == ["Straße-Codec"]
    assert [hit.name for hit in where_is(session, OPERATOR, "ße-co").items] == ["Straße-Codec"]
    assert [hit.name for hit in where_is(session, OPERATOR, "istanbul").items] == ["İstanbul-tz"]
    assert [hit.name for hit in where_is(session, OPERATOR, "pkg:pypi/Sisyphus_tools").items] == ["ΣΊΣΥΦΟΣ"]
    assert where_is(session, OPERATOR, "pkg:pypi/sisyphus").items == []  # an identity, not a part of one
    assert where_is(session, OPERATOR, "100%").items == [] and where_is(session, OPERATOR, "lib_").items == []
    long = where_is(session, OPERATOR, "x" * 30)
    assert [len(hit.name) for hit in long.items] == [MAX_KEY + 20]  # kept whole, found by its first characters


def test_a_kept_answer_moves_with_every_sbom_and_with_who_sees_which_product(session: Session) -> None:
    """Answers are kept until the audit chain moves: a new SBOM, and a new member, are seen at once."""
    release = make_release(session, make_product(session, "Codec"), "1.0")
    import_sbom(session, OPERATOR, release.id, Upload("bom.json", "", io.BytesIO(dumps(_bom()))), primary=True)
    assert where_is(session, OPERATOR, "codec").total == 1
    other = make_release(session, make_product(session, "Gateway"), "2.0")
    import_sbom(session, OPERATOR, other.id, Upload("bom.json", "", io.BytesIO(dumps(_bom()))), primary=True)
    found = where_is(session, OPERATOR, "codec")
    assert (found.total, found.products) == (2, 2)
    officer = member(session, other.product, "security_officer")
    assert [hit.product for hit in where_is(session, officer, "codec").items] == ["Gateway"]
    add_member(session, OPERATOR, release.product_id, email=officer.label.removeprefix("user:"), role="auditor")
    officer = principal_for(session, find_user(session, officer.label.removeprefix("user:")))
    assert sorted(hit.product for hit in where_is(session, officer, "codec").items) == ["Codec", "Gateway"]
