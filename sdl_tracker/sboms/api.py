"""SBOMs over /api/v1: import (multipart), list, show, components, dependencies, original, primary, policy, diff;
where a component is, a release's licences and SBOM history, a component's dependency paths."""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from pydantic import Field, StrictBool

from ..api.inputs import Input
from ..api.openapi import Download, Page, json_response, operation, page_args, paginated, parse_body, parse_metadata
from ..app_access import app_db
from ..errors import Invalid
from ..evidence.downloads import attachment_response
from ..evidence.rules import SERVED_MEDIA_TYPES
from ..evidence.services import Upload
from ..jobs.api import accepted
from ..jobs.schemas import JobOut
from ..products.services import optional_release
from ..web.context import db_session
from ..web.inputs import id_argument
from .downloads import bom_download
from .exports import export_bom
from .forms import diff_sides, export_format, inline_max_bytes, path_limits
from .importer import submit_sbom
from .queries import component_paths, licence_summary, sbom_history, where_is
from .schemas import (
    ComponentOut,
    ComponentPathsOut,
    ComponentSearchOut,
    DependencyOut,
    HistoryEntryOut,
    LicenceSummaryOut,
    PolicyOut,
    SbomDiffOut,
    SbomOut,
)
from .services import (
    MEDIA_TYPES,
    ComponentQuery,
    compare_sboms,
    dependencies_of,
    get_sbom,
    list_components,
    list_sboms,
    open_original,
    set_policy,
    set_primary,
    strict_policy,
)

bp = Blueprint("sboms_api", __name__)


class SbomImportIn(Input):
    """Options of an import (the optional `metadata` part; the document goes in the `file` part)."""

    title: str = Field(default="", max_length=200)
    primary: StrictBool = False
    strict: StrictBool = False


class PolicyIn(Input):
    """A product's SBOM import policy."""

    strict: StrictBool


@bp.get("/products/<int:product_id>/sboms")
@operation(
    "A product's SBOMs, newest release first",
    response=Page[SbomOut],
    tag="sboms",
    query={"release": "only this release version's SBOMs", "page": "page number from 1", "per_page": "1-200"},
)
def sbom_list(product_id: int) -> Response:
    """List SBOMs."""
    release = optional_release(db_session(), g.principal, product_id, request.args.get("release"))
    items = list_sboms(db_session(), g.principal, product_id, release.id if release else None)
    return json_response(paginated(items, SbomOut.of))


@bp.post("/releases/<int:release_id>/sboms")
@operation(
    "Import a CycloneDX (1.2-1.7, JSON or XML) or SPDX (2.2-2.3, JSON or tag-value) SBOM, its format detected "
    "(multipart: the document in a `file` part, options in an optional `metadata` part); "
    "200 with created=false when the same bytes were already imported, 409 while another request is still "
    "importing them; a document larger than "
    "SBOM_INLINE_MAX_BYTES is imported by a job: 202 with the job (see /jobs/{job_id}) and its Location",
    multipart=SbomImportIn,
    responses={201: SbomOut, 200: SbomOut, 202: JobOut},
    problems=[409],
    tag="sboms",
)
def sbom_import(release_id: int) -> Response:
    """Import an SBOM, or queue its import."""
    options = parse_metadata(SbomImportIn) if "metadata" in request.form else SbomImportIn()
    files = request.files.getlist("file")
    if len(files) != 1:
        raise Invalid.field("file", "send exactly one `file` part with the SBOM document")
    upload = Upload(files[0].filename or "", files[0].mimetype or "", files[0].stream)
    submitted = submit_sbom(
        app_db(),
        g.principal,
        release_id,
        upload,
        title=options.title,
        primary=options.primary,
        strict=options.strict,
        inline_max_bytes=inline_max_bytes(),
    )
    if submitted.job is not None:
        return accepted(submitted.job)
    sbom = get_sbom(db_session(), g.principal, submitted.sbom_id or 0)
    return json_response(SbomOut.of(sbom, created=submitted.created), 201 if submitted.created else 200)


@bp.get("/products/<int:product_id>/sboms/diff")
@operation(
    "What changed from one SBOM of a product to another: components added, removed, upgraded, downgraded, "
    "with another licence or supplier, and the same version with other hashes (docs/sboms.md has the rules); "
    "422 when a release has no SBOM",
    response=SbomDiffOut,
    tag="sboms",
    query={
        "from": "the earlier release's version: its primary SBOM",
        "to": "the later release's version: its primary SBOM",
        "from_sbom": "an SBOM id of the product, read in place of the earlier release's primary SBOM",
        "to_sbom": "an SBOM id of the product, read in place of the later release's primary SBOM",
    },
)
def sbom_diff(product_id: int) -> Response:
    """Diff two SBOMs."""
    before, after = diff_sides()
    return json_response(SbomDiffOut.of(compare_sboms(db_session(), g.principal, product_id, before, after)))


@bp.get("/releases/<int:release_id>/sbom-export")
@operation(
    "The release's components as CycloneDX 1.6 JSON or XML, validated, the same bytes for the same content: "
    "the serial number is a UUIDv5 of the release and the content, the version rises when the content changes "
    "(docs/sboms.md); 422 when the release has no primary SBOM or its content is not valid 1.6",
    response=Download(SERVED_MEDIA_TYPES, "the BOM as an attachment (application/json or application/xml)"),
    tag="sboms",
    query={"format": "json (the default) or xml", "sbom": "an SBOM id of the release, read in place of its primary"},
)
def release_bom_export(release_id: int) -> Response:
    """Export a release's BOM."""
    export = export_bom(app_db(), g.principal, release_id, export_format(), sbom_id=id_argument("sbom"))
    return bom_download(export)


@bp.get("/sboms/<int:sbom_id>")
@operation("An SBOM's metadata, counts and format warnings", response=SbomOut, tag="sboms")
def sbom_show(sbom_id: int) -> Response:
    """Show an SBOM."""
    return json_response(SbomOut.of(get_sbom(db_session(), g.principal, sbom_id)))


@bp.get("/sboms/<int:sbom_id>/components")
@operation(
    "An SBOM's components in document order",
    response=Page[ComponentOut],
    tag="sboms",
    query={
        "search": "name, group, version or purl contains this (case-insensitive)",
        "type": "only this component type",
        "page": "page number from 1",
        "per_page": "1-200, default 50",
    },
)
def sbom_components(sbom_id: int) -> Response:
    """List an SBOM's components."""
    page, per_page = page_args()
    query = ComponentQuery(request.args.get("search", ""), request.args.get("type", ""), page, per_page)
    result = list_components(db_session(), g.principal, sbom_id, query)
    items = [ComponentOut.of(c) for c in result.items]
    return json_response(Page(items=items, total=result.total, page=page, per_page=per_page))


@bp.get("/sboms/<int:sbom_id>/dependencies")
@operation("An SBOM's dependency edges", response=Page[DependencyOut], tag="sboms")
def sbom_dependencies(sbom_id: int) -> Response:
    """List an SBOM's dependency edges."""
    edges = dependencies_of(db_session(), g.principal, sbom_id)
    return json_response(paginated(edges, DependencyOut.of))


@bp.get("/sboms/<int:sbom_id>/original")
@operation(
    "Download the original document, byte for byte (its SHA-256 is checked first)",
    # Served as attachments are: the CycloneDX and SPDX types are not on the safe list, so the file name decides.
    response=Download(SERVED_MEDIA_TYPES, "the original file; its type by its name (application/json, ...)"),
    tag="sboms",
)
def sbom_original(sbom_id: int) -> Response:
    """Download the original SBOM."""
    sbom, stream = open_original(db_session(), g.principal, sbom_id)
    return attachment_response(sbom.filename, MEDIA_TYPES[sbom.format], sbom.size, stream)


@bp.post("/sboms/<int:sbom_id>/primary")
@operation("Make this SBOM its release's primary one", response=SbomOut, tag="sboms")
def sbom_primary(sbom_id: int) -> Response:
    """Mark an SBOM primary."""
    sbom = set_primary(db_session(), g.principal, sbom_id)
    return json_response(SbomOut.of(sbom))


@bp.get("/products/<int:product_id>/sbom-policy")
@operation("A product's SBOM import policy", response=PolicyOut, tag="sboms")
def policy_show(product_id: int) -> Response:
    """Show the SBOM policy."""
    return json_response(PolicyOut(product_id=product_id, strict=strict_policy(db_session(), g.principal, product_id)))


@bp.put("/products/<int:product_id>/sbom-policy")
@operation(
    "Set whether the product refuses SBOMs with format-only violations", body=PolicyIn, response=PolicyOut, tag="sboms"
)
def policy_update(product_id: int) -> Response:
    """Set the SBOM policy."""
    data = parse_body(PolicyIn)
    policy = set_policy(db_session(), g.principal, product_id, strict=data.strict)
    return json_response(PolicyOut(product_id=product_id, strict=policy.strict))


@bp.get("/components")
@operation(
    "Which releases of the products the caller sees hold a component in their primary SBOM: by purl (with or "
    "without version), by name (case folded), either followed by a version range (`openssl 3.0.x`, "
    "`log4j-core <2.17.1`, `lodash vers:npm/>=1.2.0|<2.0.0`); docs/sboms.md has the rules; 422 when the query "
    "cannot be read",
    response=ComponentSearchOut,
    tag="sboms",
    query={
        "q": "the component: a purl, or a name, and an optional version range",
        "page": "from 1",
        "per_page": "1-200",
    },
)
def components_where() -> Response:
    """Find where a component is."""
    page, per_page = page_args()
    found = where_is(db_session(), g.principal, request.args.get("q", ""), page=page, per_page=per_page)
    return json_response(ComponentSearchOut.of(found, page, per_page))


@bp.get("/releases/<int:release_id>/sboms/licences")
@operation(
    "The licences of the release's primary SBOM's components, counted (ids, names and expressions as given); "
    "422 when the release has no SBOM",
    response=LicenceSummaryOut,
    tag="sboms",
)
def release_licences(release_id: int) -> Response:
    """Count a release's licences."""
    return json_response(LicenceSummaryOut.of(licence_summary(db_session(), g.principal, release_id)))


@bp.get("/releases/<int:release_id>/sboms/history")
@operation(
    "The SBOMs the release had, oldest import first, with their counts and when each was the primary one",
    response=Page[HistoryEntryOut],
    tag="sboms",
)
def release_sbom_history(release_id: int) -> Response:
    """A release's SBOM history."""
    return json_response(paginated(sbom_history(db_session(), g.principal, release_id), HistoryEntryOut.of))


@bp.get("/sboms/<int:sbom_id>/components/<int:position>/paths")
@operation(
    "What depends on a component (every path up to the roots, at most max_paths, each at most max_depth steps; "
    "loops end a path) and what it pulls in (within max_depth steps)",
    response=ComponentPathsOut,
    tag="sboms",
    query={"max_paths": "1-1000, default 100", "max_depth": "1-100, default 30"},
)
def component_dependency_paths(sbom_id: int, position: int) -> Response:
    """A component's dependency paths."""
    max_paths, max_depth = path_limits()
    found = component_paths(db_session(), g.principal, sbom_id, position, max_paths=max_paths, max_depth=max_depth)
    return json_response(ComponentPathsOut.of(found))
