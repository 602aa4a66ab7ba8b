"""Release gates' records: a product's policy, each evaluation of a release with the snapshot it judged, waivers,
and sign-offs with their signed verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, str_enum, utcnow
from .policy import RuleId
from .rules import Outcome


class GatePolicy(Base):
    """A product's own gate policy (absent: the default for its component type and target SL-C)."""

    __tablename__ = "gate_policy"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)  # policy.policy_document(...)
    digest: Mapped[str] = mapped_column(String(64))  # policy.policy_digest(...)
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GateEvaluation(Base):
    """One evaluation of a release: the snapshot of facts it judged (and its digest), the policy's digest, the
    outcome per rule, and until when time alone leaves it unchanged. Never changed once written."""

    __tablename__ = "gate_evaluation"
    __table_args__ = (CheckConstraint("outcome IN ('pass', 'fail')", name="overall"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "gate_outcome"))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)  # the canonical snapshot (facts.canonical_facts)
    facts_digest: Mapped[str] = mapped_column(String(64), index=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)  # the policy document it was judged under
    policy_digest: Mapped[str] = mapped_column(String(64))
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # per rule: outcome, reasons, fixes, submitters
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    evaluated_by: Mapped[str] = mapped_column(String(320))  # who asked (or "job:<id>")


class GateWaiver(Base):
    """A failing rule of a release waived by an officer, with a justification, until an expiry (never the CRA
    I(2)(a) rule). Revoked, not deleted."""

    __tablename__ = "gate_waiver"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    rule: Mapped[RuleId] = mapped_column(str_enum(RuleId, "gate_rule"))
    justification: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(320))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str] = mapped_column(String(320), default="")


class GateSignoff(Base):
    """An officer's sign-off of a release's passing evaluation, and the verdict signed with the installation's
    key (a DSSE envelope). A legacy sign-off records a release shipped before gates existed, and says so."""

    __tablename__ = "gate_signoff"
    __table_args__ = (
        CheckConstraint("legacy OR evaluation_id IS NOT NULL", name="judged"),
        CheckConstraint("legacy OR envelope <> ''", name="signed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    # RESTRICT: the evaluation a sign-off rests on is never removed under it.
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("gate_evaluation.id", ondelete="RESTRICT"), index=True)
    legacy: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")  # the officer's words; a legacy import's reason
    envelope: Mapped[str] = mapped_column(Text, default="")  # the DSSE envelope (JSON) of the signed verdict
    key_id: Mapped[str] = mapped_column(String(16), default="")
    signed_by: Mapped[str] = mapped_column(String(320))
    signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    waivers: Mapped[int] = mapped_column(Integer, default=0)  # how many waivers the signed evaluation used

    evaluation: Mapped[GateEvaluation | None] = relationship()
