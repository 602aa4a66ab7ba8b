"""A release's CRA file as a whole, and what it still lacks before it can be exported.

Each part is read by the module that keeps it (applicability, records, declarations); this module puts them
together, hands the plain facts to `rules.missing_parts` and keeps the result until an audited change (every
record of the file, every evidence item and claim behind it, and the catalog are changed by audited services
only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ..audit.services import kept
from ..auth import Principal
from ..db import utcnow
from ..evidence.models import Evidence
from ..evidence.vocabulary import ReviewState
from ..products.models import Release
from ..products.services import get_release
from .applicability import MappingState, PointView, mapping_state, release_points
from .declarations import applied_standards, declaration, route_rules, standards_note, user_information
from .models import Declaration, RiskAssessment
from .records import current_risk_assessment, support_period_facts
from .rules import (
    DECLARATION_FIELDS,
    RISK_FIELDS,
    Area,
    FileFacts,
    Missing,
    PointFacts,
    missing_parts,
)


@dataclass(frozen=True)
class CraFile:
    """A release's CRA file: every part, and what is missing; plain values (kept across requests)."""

    release_id: int
    product_id: int
    category: str
    mapping: MappingState
    points: tuple[PointView, ...]
    risk_number: int | None  # the current risk assessment's revision number
    support_end: date | None
    support_recorded: bool
    user_information_done: int
    user_information_total: int
    declaration_recorded: bool
    conformity_route: str
    standards: tuple[str, ...]
    standards_note: str
    missing: tuple[Missing, ...]

    @property
    def complete(self) -> bool:
        """Whether nothing is missing: the technical file may be exported."""
        return not self.missing

    def missing_in(self, area: Area) -> tuple[Missing, ...]:
        """What is missing in one area of the file."""
        return tuple(m for m in self.missing if m.area is area)

    @property
    def points_done(self) -> int:
        """Annex I points with nothing missing."""
        flawed = {m.key for m in self.missing_in(Area.POINT)}
        return sum(1 for p in self.points if p.ref not in flawed)


def release_file(session: Session, actor: Principal, release_id: int, *, today: date | None = None) -> CraFile:
    """A release's CRA file and what it lacks (NotFound for a release of a product the actor does not see);
    kept per release and day until an audited change."""
    today = today or utcnow().date()
    release = get_release(session, actor, release_id)  # access is checked on every request, kept or not
    return kept(session, ("cra file", release.id, today), lambda: _read_file(session, actor, release, today))


def _read_file(session: Session, actor: Principal, release: Release, today: date) -> CraFile:
    product = release.product
    points = tuple(release_points(session, actor, release.id))
    risk = current_risk_assessment(session, actor, product.id)
    support = support_period_facts(session, actor, product.id)
    items = user_information(session, actor, release.id)
    recorded = declaration(session, actor, release.id)
    rules = route_rules(session)
    facts = FileFacts(
        category=product.cra_category.value,
        points=tuple(
            PointFacts(
                ref=p.ref,
                assessed=p.assessed,
                applicable=p.applicable,
                justification=p.justification,
                measures=p.measures,
                mapped_met=p.mapped_met,
                linked_accepted=p.linked_accepted,
                other_evidence_reason=p.other_evidence_reason,
            )
            for p in points
        ),
        risk_assessment=_risk_fields(risk),
        risk_threat_model=_rests_on_accepted_model(session, risk),
        support=support,
        # A document counts once accepted: a draft or rejected manual is not yet the information users get.
        user_information={
            item.ref: bool(item.text.strip() or (item.evidence and item.evidence[2] == ReviewState.ACCEPTED))
            for item in items
        },
        declaration=_declaration_fields(recorded),
        route_rules=rules,
    )
    standards = tuple(applied_standards(session, actor, release.id))
    return CraFile(
        release_id=release.id,
        product_id=product.id,
        category=product.cra_category.value,
        mapping=mapping_state(session, actor, release.id),
        points=points,
        risk_number=risk.number if risk else None,
        support_end=product.support_period_end,
        support_recorded=support is not None,
        user_information_done=sum(1 for done in facts.user_information.values() if done),
        user_information_total=len(items),
        declaration_recorded=recorded is not None,
        conformity_route=recorded.conformity_route.value if recorded and recorded.conformity_route else "",
        standards=standards,
        standards_note=standards_note(session, actor, release.id, today),
        missing=tuple(missing_parts(facts)),
    )


def _rests_on_accepted_model(session: Session, risk: RiskAssessment | None) -> bool:
    """Whether the risk assessment names a threat model whose current revision is accepted: a draft or a
    rejected model is no basis an assessor would accept."""
    if risk is None or risk.threat_model_evidence_id is None:
        return False
    model = session.get(Evidence, risk.threat_model_evidence_id)
    return model is not None and model.current.state is ReviewState.ACCEPTED


def _risk_fields(risk: RiskAssessment | None) -> dict[str, str] | None:
    if risk is None:
        return None
    fields = {name: str(getattr(risk, name) or "") for name, _label in RISK_FIELDS}
    fields["expected_use_months"] = str(risk.expected_use_months or "")
    return fields


def _declaration_fields(recorded: Declaration | None) -> dict[str, str] | None:
    if recorded is None:
        return None
    fields = {name: str(getattr(recorded, name) or "") for name, _label in DECLARATION_FIELDS}
    fields["conformity_route"] = recorded.conformity_route.value if recorded.conformity_route else ""
    fields["date_of_issue"] = recorded.date_of_issue.isoformat() if recorded.date_of_issue else ""
    fields["presumption_basis"] = recorded.presumption_basis.value if recorded.presumption_basis else ""
    for name in ("presumption_basis_reference", "notified_body_name", "notified_body_number", "certificate_reference"):
        fields[name] = getattr(recorded, name) or ""
    return fields
