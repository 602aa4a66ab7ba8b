"""SBOMs and their components as JSON (the API, `--json` and the pages read the same shapes)."""

from __future__ import annotations

from typing import Any

from .models import Sbom, SbomComponent


def sbom_json(sbom: Sbom) -> dict[str, Any]:
    """An SBOM's metadata, counts and warnings."""
    return {
        "id": sbom.id,
        "product_id": sbom.product_id,
        "release": sbom.release.version,
        "release_id": sbom.release_id,
        "title": sbom.title,
        "filename": sbom.filename,
        "primary": sbom.is_primary,
        "format": sbom.format.value,
        "spec_version": sbom.spec_version,
        "sha256": sbom.sha256,
        "size": sbom.size,
        "serial_number": sbom.serial_number,
        "bom_version": sbom.bom_version,
        "generated_at": sbom.generated_at.isoformat() if sbom.generated_at else None,
        "subject": sbom.subject,
        "tools": sbom.tools,
        "components": sbom.component_count,
        "dependencies": sbom.dependency_count,
        "services": sbom.service_count,
        "warnings": sbom.warnings,
        "strict": sbom.strict,
        "evidence_id": sbom.evidence_id,
        "imported_by": sbom.imported_by,
        "imported_at": sbom.imported_at.isoformat(),
    }


def component_json(component: SbomComponent) -> dict[str, Any]:
    """One component row."""
    return {
        "position": component.position,
        "parent_position": component.parent_position,
        "bom_ref": component.bom_ref,
        "type": component.type,
        "group": component.group_name,
        "name": component.name,
        "version": component.version,
        "purl": component.purl,
        "cpe": component.cpe,
        "scope": component.scope,
        "supplier": component.supplier,
        "hashes": component.hashes,
        "licenses": component.licenses,
    }


def license_text(licenses: list[dict[str, str]]) -> str:
    """Licenses as one line: ids, names and expressions joined."""
    return ", ".join(next(iter(item.values()), "") for item in licenses)
