"""Imports every feature's models, so the metadata is complete for Alembic and relationships."""

from __future__ import annotations

from . import blobs as blob_models
from .accounts import models as accounts_models
from .audit import models as audit_models
from .builds import models as build_models
from .catalog import models as catalog_models
from .claims import models as claim_models
from .cra import models as cra_models
from .db import Base
from .evidence import models as evidence_models
from .gates import models as gate_models
from .gitlink import models as git_models
from .jobs import models as job_models
from .modifications import models as modification_models
from .outbox import models as outbox_models
from .products import models as products_models
from .psirt import models as psirt_models
from .sboms import models as sbom_models
from .vex import models as vex_models

__all__ = [
    "Base",
    "accounts_models",
    "audit_models",
    "blob_models",
    "build_models",
    "catalog_models",
    "claim_models",
    "cra_models",
    "evidence_models",
    "gate_models",
    "git_models",
    "job_models",
    "modification_models",
    "outbox_models",
    "products_models",
    "psirt_models",
    "sbom_models",
    "vex_models",
]
