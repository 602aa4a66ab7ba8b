"""Annex I applicability per release: each point applicable or not, its measures and evidence (the mapping's and
linked by hand), and the release's pinned mapping version."""

from __future__ import annotations

from ..auth import Permission, Principal, authorize


def authorize_keep_file(actor: Principal, product_id: int) -> None:
    """Refuse an actor who may not change the product's CRA file (security officers and administrators may)."""
    authorize(actor, Permission.CRA_MANAGE, product_id)


def may_keep_file(actor: Principal, product_id: int) -> bool:
    """Whether the actor may change the product's CRA file (pages show its forms and buttons only then)."""
    return actor.has(Permission.CRA_MANAGE, product_id)
