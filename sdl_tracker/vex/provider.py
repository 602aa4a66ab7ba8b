"""The tracker as a CSAF 2.0 trusted provider: the `/.well-known/csaf/` directory of the newest signed version of
each published document, as one reader may see it (docs/csaf-provider.md).

TLP:WHITE documents are for anyone; a document of another label only for a signed-in reader (session or API
token) who sees its product: the stricter reading of "authenticated", since AMBER and RED name their audience.
The directory exists only while a signing key is configured: a trusted provider signs every document.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit.services import kept
from ..auth import Principal
from ..errors import NotFound
from ..installation import installation
from .advisory import Publisher, PublisherCategory
from .directory import DirectoryError, Provider, PublishedDocument, site_files
from .models import CsafPublication
from .openpgp import OpenPgpError, export_public_key, signing_key
from .publishing import publication_bytes, signature_bytes

WHITE = "WHITE"


def _newest(session: Session) -> list[CsafPublication]:
    """The newest signed version of each published document (what the directory serves under its name)."""
    newest = (
        select(CsafPublication.tracking_id, func.max(CsafPublication.version).label("version"))
        .where(CsafPublication.signature_sha256.is_not(None))
        .group_by(CsafPublication.tracking_id)
        .subquery()
    )
    query = select(CsafPublication).join(
        newest,
        (newest.c.tracking_id == CsafPublication.tracking_id) & (newest.c.version == CsafPublication.version),
    )
    return list(session.scalars(query.order_by(CsafPublication.published_at, CsafPublication.id)))


def _publisher(content: bytes) -> Publisher:
    """The publisher a published document names (one organisation per installation: the newest document's)."""
    named = json.loads(content)["document"]["publisher"]
    return Publisher(
        name=named["name"],
        namespace=named["namespace"],
        category=PublisherCategory(named["category"]),
        contact_details=named.get("contact_details", ""),
        issuing_authority=named.get("issuing_authority", ""),
    )


def provider_files(session: Session, reader: Principal | None, base_url: str) -> dict[str, bytes]:
    """Every file of the directory the reader may read, by path under the site's root; NotFound when the tracker
    is no provider (no signing key, or nothing published and signed yet)."""
    setup = installation(session).csaf
    if setup.gnupg_home is None:
        raise NotFound("this tracker is no CSAF provider: no signing key is configured")
    base = setup.base_url or base_url.rstrip("/")
    seen = None if reader is None else (reader.is_admin, tuple(sorted(reader.role_by_product)), reader.token_products)
    return kept(session, ("csaf provider", base, seen), lambda: _files(session, reader, base))


def _files(session: Session, reader: Principal | None, base: str) -> dict[str, bytes]:
    setup = installation(session).csaf
    newest = _newest(session)
    if not newest:
        raise NotFound("no CSAF document is published and signed yet")
    assert setup.gnupg_home is not None
    try:
        key = signing_key(setup.gnupg_home, setup.key_fingerprint)
        public_key = export_public_key(key)
        provider = Provider(
            publisher=_publisher(publication_bytes(session, newest[-1])),
            base_url=base,
            key_fingerprint=key.fingerprint,
            public_key=public_key,
        )
        readable = [p for p in newest if p.tlp == WHITE or (reader is not None and reader.can_see(p.product_id))]
        documents = [
            PublishedDocument.from_csaf(publication_bytes(session, p), p.file_name, signature_bytes(session, p) or b"")
            for p in readable
        ]
        last_updated: datetime = newest[-1].published_at
        return site_files(provider, documents, last_updated)
    except (OpenPgpError, DirectoryError) as exc:
        raise NotFound(f"the CSAF provider directory cannot be served: {exc}") from None
