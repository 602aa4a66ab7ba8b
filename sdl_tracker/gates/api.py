"""Release gates over /api/v1: a release's gate status, evaluating it, waivers, sign-off and its signed verdict, and
a product's gate policy (JSON, or YAML with Content-Type and Accept: application/yaml)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request
from pydantic import AwareDatetime, Field

from ..api.inputs import Input, Text
from ..api.openapi import Download, json_response, operation, parse_body
from ..boundary import TooDeep, loads_json
from ..db import utcnow
from ..errors import Invalid, Malformed
from ..web.context import db_session
from .downloads import verdict_download
from .evaluations import evaluate_release, gate_status, product_policy, reset_policy, set_policy
from .forms import JUSTIFICATION_MAX, NOTE_MAX
from .policy import (
    MAX_YAML_BYTES,
    POLICY_FORMAT,
    POLICY_VERSION,
    RuleId,
    policy_from_document,
    policy_from_yaml,
    policy_to_yaml,
)
from .schemas import EvaluationOut, GateStatusOut, PolicyDocumentOut, SignoffOut, WaiverOut
from .signoff import add_waiver, revoke_waiver, sign_off_release, verdict_envelope

bp = Blueprint("gates_api", __name__)
YAML_TYPE = "application/yaml"
YAML_TYPES = (YAML_TYPE, "application/x-yaml", "text/yaml", "text/x-yaml")
POLICY_HEADER = "X-Gate-Policy"  # default: the default policy of the product's type and target; product: its own


class WaiverIn(Input):
    """Waive one failing rule of the release until an instant (never no_known_exploitable)."""

    rule: RuleId
    justification: Text = Field(min_length=1, max_length=JUSTIFICATION_MAX)
    expires_at: AwareDatetime = Field(description="when the waiver ends (with a time zone)")


class SignoffIn(Input):
    """Sign off the release's current, passing gate."""

    note: Text = Field(default="", max_length=NOTE_MAX)


@bp.get("/releases/<int:release_id>/gate")
@operation(
    "A release's gate: the newest evaluation rule by rule and whether it is still current (an outdated result is "
    "never a pass: `passed` is true only for a current pass), its sign-off, and its waivers",
    response=GateStatusOut,
    tag="gates",
)
def gate_show(release_id: int) -> Response:
    """Show a release's gate."""
    now = utcnow()
    return json_response(GateStatusOut.of(gate_status(db_session(), g.principal, release_id, now=now), now))


@bp.post("/releases/<int:release_id>/gate/evaluations")
@operation(
    "Evaluate the release's gate now on the facts as they stand; the evaluation, rule by rule",
    response=EvaluationOut,
    status=201,
    tag="gates",
)
def gate_evaluate(release_id: int) -> Response:
    """Evaluate a release's gate."""
    return json_response(EvaluationOut.of(evaluate_release(db_session(), g.principal, release_id)), 201)


@bp.post("/releases/<int:release_id>/gate/waivers")
@operation(
    "Waive a failing, waivable rule with a justification until an expiry (security officers); no_known_exploitable "
    "(CRA Annex I Part I (2)(a)) never",
    body=WaiverIn,
    response=WaiverOut,
    status=201,
    tag="gates",
)
def gate_waive(release_id: int) -> Response:
    """Waive a rule."""
    body = parse_body(WaiverIn)
    waiver = add_waiver(db_session(), g.principal, release_id, body.rule.value, body.justification, body.expires_at)
    return json_response(WaiverOut.of(waiver), 201)


@bp.post("/gate/waivers/<int:waiver_id>/revoke")
@operation(
    "Revoke a waiver (security officers); 409 when it was revoked already",
    response=WaiverOut,
    problems=(409,),
    tag="gates",
)
def gate_waiver_revoke(waiver_id: int) -> Response:
    """Revoke a waiver."""
    return json_response(WaiverOut.of(revoke_waiver(db_session(), g.principal, waiver_id)))


@bp.post("/releases/<int:release_id>/gate/signoff")
@operation(
    "Sign off the release's current, passing gate (a security officer who submitted none of the evidence a rule "
    "rests on); the verdict is signed with the installation's key",
    body=SignoffIn,
    response=SignoffOut,
    status=201,
    problems=(409,),
    tag="gates",
)
def gate_signoff(release_id: int) -> Response:
    """Sign off a release's gate."""
    body = parse_body(SignoffIn)
    return json_response(SignoffOut.of(sign_off_release(db_session(), g.principal, release_id, body.note)), 201)


@bp.get("/gate/signoffs/<int:signoff_id>/verdict")
@operation(
    "A sign-off's signed verdict: a DSSE envelope of an in-toto statement, to verify offline with "
    "`sdl-tracker gate verify FILE --public-key KEY`",
    response=Download(("application/json",), "the DSSE envelope (JSON)"),
    tag="gates",
)
def gate_verdict(signoff_id: int) -> Response:
    """Download a signed verdict."""
    session = db_session()
    envelope = verdict_envelope(session, g.principal, signoff_id)
    return verdict_download(session, signoff_id, envelope)


@bp.get("/products/<int:product_id>/gate-policy")
@operation(
    "A product's gate policy as its document (every rule, every parameter); the X-Gate-Policy header says "
    "`default` or `product`",
    response=PolicyDocumentOut,
    tag="gates",
)
def gate_policy_show(product_id: int) -> Response:
    """Show a product's gate policy."""
    policy, is_default = product_policy(db_session(), g.principal, product_id)
    response = json_response(PolicyDocumentOut.of(policy))
    response.headers[POLICY_HEADER] = "default" if is_default else "product"
    return response


@bp.get("/products/<int:product_id>/gate-policy.yaml")
@operation(
    "A product's gate policy as YAML, the form `gate policy --import` and PUT with Content-Type: application/yaml "
    "take back; the X-Gate-Policy header says `default` or `product`",
    response=Download((YAML_TYPE,), "the policy (YAML)"),
    tag="gates",
)
def gate_policy_yaml_show(product_id: int) -> Response:
    """Show a product's gate policy as YAML."""
    policy, is_default = product_policy(db_session(), g.principal, product_id)
    response = Response(policy_to_yaml(policy), mimetype=YAML_TYPE)
    response.headers[POLICY_HEADER] = "default" if is_default else "product"
    return response


class PolicyDocumentIn(Input):
    """A gate policy's document, as GET gives it; every rule and parameter is then checked by the policy's own
    model (gates/policy.py), which names each problem by its path."""

    format: str = Field(default=POLICY_FORMAT, max_length=60)
    version: int = Field(default=POLICY_VERSION, ge=1, le=1000)
    rules: dict[str, dict[str, Any]] = Field(max_length=64)


@bp.put("/products/<int:product_id>/gate-policy")
@operation(
    "Set a product's gate policy (security officers): the document as GET gives it, in JSON, or its YAML with "
    "Content-Type: application/yaml; 422 names each problem by its path in the document",
    body=PolicyDocumentIn,
    response=PolicyDocumentOut,
    tag="gates",
)
def gate_policy_put(product_id: int) -> Response:
    """Set a product's gate policy."""
    session = db_session()
    if request.mimetype in YAML_TYPES:
        raw = request.get_data()
        if len(raw) > MAX_YAML_BYTES:
            raise Invalid.field("yaml", f"{len(raw)} bytes; a gate policy is at most {MAX_YAML_BYTES}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid.field("yaml", "the YAML must be UTF-8") from None
        policy = policy_from_yaml(text)
    elif request.is_json:
        try:
            document = loads_json(request.get_data())
        except TooDeep as exc:
            raise Malformed(str(exc)) from None
        except (ValueError, UnicodeDecodeError):
            raise Invalid("the body must be a JSON document (Content-Type: application/json)") from None
        policy = policy_from_document(document)
    else:
        raise Invalid("send the policy as JSON (application/json) or YAML (application/yaml)")
    set_policy(session, g.principal, product_id, policy)
    response = json_response(PolicyDocumentOut.of(policy))
    response.headers[POLICY_HEADER] = "product"
    return response


@bp.delete("/products/<int:product_id>/gate-policy")
@operation(
    "Reset a product's gate policy to the default for its component type and target SL-C (security officers)",
    status=204,
    tag="gates",
)
def gate_policy_reset(product_id: int) -> Response:
    """Reset a product's gate policy."""
    reset_policy(db_session(), g.principal, product_id)
    return Response(status=204)
