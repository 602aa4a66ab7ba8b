"""The permission matrix: every route of the app x every kind of actor, expected outcomes in one table.

A route missing from MATRIX fails the test, so a new page or endpoint cannot ship without someone
deciding, here, who may use it.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdl_tracker.accounts.models import Notification, User
from sdl_tracker.accounts.services import add_member
from sdl_tracker.accounts.tokens import create_token
from sdl_tracker.auth import Principal
from sdl_tracker.catalog.services import find_edition
from sdl_tracker.claims.services import ClaimInput, set_claim
from sdl_tracker.cra.records import (
    RiskAssessmentInput,
    SupportPeriodInput,
    record_risk_assessment,
    record_support_period,
)
from sdl_tracker.evidence.scoping import propose_scoping
from sdl_tracker.evidence.services import EvidenceInput, Upload, create_evidence
from sdl_tracker.gates.models import GateEvaluation, GateSignoff, GateWaiver
from sdl_tracker.gates.policy import Policy, RuleId, policy_document
from sdl_tracker.gates.rules import Outcome
from sdl_tracker.gitlink.intake import Delivery, deliver_commits
from sdl_tracker.gitlink.objects import object_id
from sdl_tracker.gitlink.signing import register_key
from sdl_tracker.installation import installation
from sdl_tracker.jobs.services import enqueue
from sdl_tracker.outbox.services import add_webhook
from sdl_tracker.products.models import Product, Release
from sdl_tracker.products.repositories import add_repository
from sdl_tracker.psirt.services import create_case
from sdl_tracker.sboms.services import import_sbom
from sdl_tracker.vex.advisory import TrackingStatus
from sdl_tracker.vex.models import CsafProfile, CsafPublication, DecisionOrigin
from sdl_tracker.vex.publishing import publish_csaf
from sdl_tracker.vex.services import DecisionInput, record_decision
from tests.factories import OPERATOR, ApiClient, make_product, make_release, make_user, member
from tests.sboms.builders import dumps, json_bom, xml_bom

ACTORS = ("admin", "security_officer", "developer", "auditor", "non_member", "anonymous", "read_token")

# One letter per actor, in ACTORS order. A: allowed (2xx/3xx); F: 403; N: 404 (the product is not
# theirs, so it does not exist for them); L: not signed in (pages: redirect to login; API: 401).
# read_token is the security officer's API token narrowed to product:read on their product: pages
# never accept tokens (it is anonymous there), and through the API it reads but changes nothing.
# A 422 counts as allowed: the actor got past authorisation and the state refused the change (the
# requests carry valid bodies, so a 422 never comes from the body itself).
MATRIX: dict[tuple[str, str], str] = {
    # Open to everyone.
    ("static", "GET"): "AAAAAAA",
    ("web.health", "GET"): "AAAAAAA",
    ("accounts.login", "GET"): "AAAAAAA",
    ("accounts.login", "POST"): "AAAAAAA",
    ("api.openapi", "GET"): "AAAAAAA",
    # Any signed-in user.
    ("dashboard.index", "GET"): "AAAAALL",
    ("dashboard.portfolio", "GET"): "AAAAALL",
    ("dashboard.notifications", "GET"): "AAAAALL",
    ("dashboard.mark_all_read", "POST"): "AAAAALL",
    ("dashboard.mark_one_read", "POST"): "AAAAALL",  # only the user's own notification changes
    ("accounts.logout_view", "POST"): "AAAAALL",
    ("accounts.account", "GET"): "AAAAALL",
    ("accounts.account", "POST"): "AAAAALL",
    ("accounts.account_time_zone", "POST"): "AAAAALL",  # one's own zone only
    ("accounts.tokens", "GET"): "AAAAALL",
    ("accounts.tokens", "POST"): "AAAAALL",
    ("accounts.revoke_token_view", "POST"): "ANNNNLL",  # the victim's token: only an administrator reaches it
    ("products.index", "GET"): "AAAAALL",
    ("catalog.index", "GET"): "AAAAALL",
    ("catalog.edition", "GET"): "AAAAALL",
    ("catalog.requirement", "GET"): "AAAAALL",
    ("signing.index", "GET"): "AAAAALL",  # public keys: whoever signs in may compare fingerprints
    ("signing.download", "GET"): "AAAAALL",
    # Administrators only.
    ("accounts.users", "GET"): "AFFFFLL",
    ("accounts.users", "POST"): "AFFFFLL",
    ("accounts.disable_user", "POST"): "AFFFFLL",
    ("accounts.enable_user", "POST"): "AFFFFLL",
    ("accounts.grant_admin", "POST"): "AFFFFLL",
    ("accounts.revoke_admin", "POST"): "AFFFFLL",
    ("products.create", "GET"): "AFFFFLL",
    ("products.create", "POST"): "AFFFFLL",
    ("audit.log", "GET"): "AFFFFLL",
    ("audit.log_csv", "GET"): "AFFFFLL",
    # Members read their product; others must not learn it exists.
    ("products.detail", "GET"): "AAAANLL",
    ("products.release_detail", "GET"): "AAAANLL",
    ("dashboard.readiness", "GET"): "AAAANLL",
    ("accounts.members", "GET"): "AAAANLL",
    # A product's officers manage its developers and auditors (which roles: tests/accounts/test_members.py).
    ("accounts.members", "POST"): "AAFFNLL",
    ("accounts.remove_member_view", "POST"): "AAFFNLL",
    # Security officers manage their product.
    ("products.audit_log", "GET"): "AAFANLL",
    ("products.audit_log_csv", "GET"): "AAFANLL",
    ("evidence.index", "GET"): "AAAANLL",
    ("evidence.detail", "GET"): "AAAANLL",
    ("evidence.download", "GET"): "AAAANLL",
    ("evidence.preview", "GET"): "AAAANLL",
    ("evidence.preview_png", "GET"): "AAAANLL",
    # Each ticked item is authorised on its own (refused items are listed); the form itself is anyone's.
    ("evidence.bulk_review", "POST"): "AAAAALL",
    ("evidence.new", "GET"): "AAAFNLL",
    ("evidence.new", "POST"): "AAAFNLL",
    ("evidence.edit", "GET"): "AAAFNLL",
    ("evidence.edit", "POST"): "AAAFNLL",
    ("evidence.submit", "POST"): "AAAFNLL",
    ("evidence.review", "POST"): "AAFFNLL",
    ("evidence.organisation_index", "GET"): "AAAAALL",
    ("claims.index", "GET"): "AAAANLL",
    ("gitlink.commits", "GET"): "AAAANLL",
    ("claims.compare", "GET"): "AAAANLL",
    ("claims.edit", "GET"): "AAFFNLL",
    ("claims.edit", "POST"): "AAFFNLL",
    ("claims.accept", "POST"): "AAFFNLL",
    ("claims.confirm", "POST"): "AAFFNLL",
    ("evidence.coverage_view", "GET"): "AAAANLL",
    ("evidence.coverage_view", "POST"): "AAFFNLL",
    ("evidence.scoping_propose", "POST"): "AAFFNLL",
    ("evidence.scoping_accept", "POST"): "AAFFNLL",
    ("evidence.scoping_withdraw", "POST"): "AAFFNLL",
    ("evidence.review_intervals", "GET"): "AAAANLL",
    ("evidence.review_intervals", "POST"): "AAFFNLL",
    ("evidence.organisation_new", "GET"): "AFFFFLL",
    ("evidence.organisation_new", "POST"): "AFFFFLL",
    ("products.edit", "GET"): "AAFFNLL",
    ("products.edit", "POST"): "AAFFNLL",
    ("products.create_release_view", "GET"): "AAFFNLL",
    ("products.create_repository_view", "GET"): "AAFFNLL",
    ("products.create_repository_view", "POST"): "AAFFNLL",
    ("products.edit_repository_view", "GET"): "AAFFNLL",
    ("products.edit_repository_view", "POST"): "AAFFNLL",
    ("products.remove_repository_view", "POST"): "AAFFNLL",  # a repository of its own, removed once, then again
    ("products.create_release_view", "POST"): "AAFFNLL",
    ("sboms.release_sboms", "GET"): "AAAANLL",
    ("sboms.release_sboms", "POST"): "AAAFNLL",
    ("builds.release_artifacts", "GET"): "AAAANLL",
    ("sboms.product_sboms", "GET"): "AAAANLL",
    ("sboms.product_sboms", "POST"): "AAFFNLL",
    ("sboms.detail", "GET"): "AAAANLL",
    ("sboms.original", "GET"): "AAAANLL",
    ("sboms.primary", "POST"): "AAAFNLL",
    ("sboms.diff", "GET"): "AAAANLL",
    ("sboms.component", "GET"): "AAAANLL",
    ("sboms.where", "GET"): "AAAAALL",  # anyone signed in searches; each sees only their products' releases
    # Substantial-modification signals: members read them; the product's officers confirm or dismiss them.
    ("modifications.release_modifications_view", "GET"): "AAAANLL",
    ("modifications.release_modifications_view", "POST"): "AAFFNLL",
    # PSIRT cases: members read them (each sees only their products' cases on the lists); the product's security
    # officers record and change them, and its Article 14 settings.
    ("psirt.dashboard", "GET"): "AAAAALL",
    ("psirt.cases", "GET"): "AAAAALL",
    ("psirt.case", "GET"): "AAAANLL",
    ("psirt.packet", "GET"): "AAAANLL",
    ("psirt.new_case", "GET"): "AAFFNLL",
    ("psirt.new_case", "POST"): "AAFFNLL",
    ("psirt.edit_case", "GET"): "AAFFNLL",
    ("psirt.edit_case", "POST"): "AAFFNLL",
    ("psirt.submission", "GET"): "AAFFNLL",
    ("psirt.submission", "POST"): "AAFFNLL",
    ("psirt.intermediate_request", "GET"): "AAFFNLL",
    ("psirt.intermediate_request", "POST"): "AAFFNLL",
    ("psirt.settings", "GET"): "AAAANLL",
    ("psirt.settings", "POST"): "AAFFNLL",
    # VEX decisions: members read a release's; its security officers record, confirm and delete them.
    ("vex.release_vex", "GET"): "AAAANLL",
    ("vex.release_vex", "POST"): "AAFFNLL",
    ("vex.confirm", "POST"): "AAFFNLL",  # confirmed by the first actor, then refused as confirmed already (422)
    ("vex.delete", "POST"): "ANNNNLL",  # deleted by the first actor: none left (who may: tests/vex/test_doors.py)
    ("vex.vulnerabilities", "GET"): "AAAAALL",  # the reader's releases only
    ("vex.vulnerability", "GET"): "AAAAALL",  # a CVE is public; which releases it affects, the reader's only
    # Administrators import any file, security officers (of any product) suppliers' VEX for their products.
    ("vex.vulnerability_import", "GET"): "AAFFALL",
    ("vex.vulnerability_import", "POST"): "AAFFALL",
    ("vex.case_csaf", "GET"): "AAAANLL",
    ("vex.case_csaf", "POST"): "AAFFNLL",  # officers publish (an empty form: 422)
    ("vex.case_csaf_preview", "GET"): "AAAANLL",
    ("vex.csaf_publication", "GET"): "AAAANLL",
    # Not a provider without a signing key: 404 for everyone (tests/vex/test_publishing.py serves one).
    ("vex.provider", "GET"): "NNNNNNN",
    ("vex.release_vex_export", "GET"): "AAAANLL",  # a read: refused for want of a publisher, back to the page
    # Release gates: members read a release's gate and ask for an evaluation (it judges, changes no fact); the
    # product's security officers waive, revoke, sign off and set the policy (who exactly: tests/gates/test_doors.py).
    ("gates.release_gate", "GET"): "AAAANLL",
    ("gates.evaluate", "POST"): "AAAANLL",
    ("gates.add_waiver", "POST"): "AAFFNLL",  # an empty form: 422
    ("gates.revoke_waiver", "POST"): "AAFFNLL",  # revoked by the first actor, then again (a no-op)
    ("gates.sign_off", "POST"): "AAFFNLL",  # nothing current and passing to sign off: refused on the page
    ("gates.verdict", "GET"): "AAAANLL",
    ("gates.policy", "GET"): "AAAANLL",
    ("gates.policy", "POST"): "AAFFNLL",  # an empty form: 422
    ("gates.reset_policy", "POST"): "AAFFNLL",
    ("gates.policy_yaml", "GET"): "AAAANLL",
    ("cra.release_file_view", "GET"): "AAAANLL",
    # A release's CRA user information and declaration data: members read, officers record (tests/cra/).
    ("cra.user_information", "GET"): "AAAANLL",
    ("cra.user_information", "POST"): "AAFFNLL",
    ("cra.declaration", "GET"): "AAAANLL",
    ("cra.declaration", "POST"): "AAFFNLL",
    # The CRA file: members read it; its officers keep it (an empty point form or no version: shown again, 2xx).
    ("cra.point", "GET"): "AAAANLL",
    ("cra.point", "POST"): "AAFFNLL",
    ("cra.move_mapping", "POST"): "AAFFNLL",  # a read: refused for want of a publisher, back to the page
    ("jobs.detail", "GET"): "AAAANLL",
    ("jobs.retry", "POST"): "AAFFNLL",
    ("gitlink.scan", "POST"): "AAFFNLL",
    # Webhook endpoints: the product's officers only (a URL may carry the receiver's token).
    ("outbox.webhooks", "GET"): "AAFFNLL",
    ("outbox.webhooks", "POST"): "AAFFNLL",
    ("outbox.disable", "POST"): "AAFFNLL",
    ("outbox.enable", "POST"): "AAFFNLL",
    ("outbox.remove", "POST"): "AAFFNLL",  # an endpoint of its own, removed once, then again (a no-op)
    ("outbox.test", "POST"): "AAFFNLL",
    # The API: the same rules, bearer tokens only.
    ("api.products_api.products_list", "GET"): "AAAAALA",
    ("api.cra_api.release_file_show", "GET"): "AAAANLA",
    ("api.products_api.products_create", "POST"): "AFFFFLF",
    ("api.products_api.products_show", "GET"): "AAAANLA",
    ("api.products_api.products_update", "PATCH"): "AAFFNLF",
    ("api.products_api.releases_list", "GET"): "AAAANLA",
    ("api.products_api.releases_create", "POST"): "AAFFNLF",
    ("api.products_api.releases_show", "GET"): "AAAANLA",
    ("api.products_api.releases_update", "PATCH"): "AAFFNLF",
    ("api.products_api.repositories_list", "GET"): "AAAANLA",
    ("api.products_api.repositories_create", "POST"): "AAFFNLF",
    ("api.products_api.repositories_update", "PATCH"): "AAFFNLF",
    ("api.products_api.repositories_delete", "DELETE"): "AAFFNLF",
    ("api.evidence_api.evidence_list", "GET"): "AAAANLA",
    ("api.evidence_api.evidence_show", "GET"): "AAAANLA",
    ("api.evidence_api.artifact_download", "GET"): "AAAANLA",
    ("api.evidence_api.evidence_create", "POST"): "AAAFNLF",
    ("api.evidence_api.evidence_revise", "POST"): "AAAFNLF",
    ("api.evidence_api.evidence_submit", "POST"): "AAAFNLF",
    ("api.evidence_api.evidence_review", "POST"): "AAFFNLF",
    # Each item is authorised on its own (refused items are in the answer, another product's as unknown), as
    # on the page; a token that does not grant evidence:review (a developer's, an auditor's) is refused whole.
    ("api.evidence_api.evidence_bulk_review", "POST"): "AAFFALF",
    # One's own notifications: every token may read products, so read_token lists and marks them too (marking
    # read changes no product's records). One notification is the security officer's alone.
    ("api.accounts_api.notifications_list", "GET"): "AAAAALA",
    ("api.accounts_api.notifications_read_all", "POST"): "AAAAALA",
    ("api.accounts_api.notification_read", "POST"): "NANNNLA",
    # One's own account and time zone: like notifications, changing the zone changes no product's records.
    ("api.accounts_api.account_show", "GET"): "AAAAALA",
    ("api.accounts_api.account_update", "PATCH"): "AAAAALA",
    # The digests of the users' addresses (a commit-msg hook checks reviewers against them): those who deliver
    # commits on some product (the non-member develops another product; an auditor and a read-only token do not).
    ("api.accounts_api.reviewers", "GET"): "AAAFALF",
    # A release's BOM export: whoever reads the release (the first export of a content records its version).
    ("sboms.release_export", "GET"): "AAAANLL",
    ("api.sboms_api.release_bom_export", "GET"): "AAAANLA",
    # One's own signing keys: any user; a token needs signing-keys:manage to change them (read_token lacks it).
    # The key removed is the victim's: only an administrator reaches it (a key of one's own is removed the same way).
    ("gitlink.signing_keys", "GET"): "AAAAALL",
    ("gitlink.signing_keys", "POST"): "AAAAALL",
    ("gitlink.signing_key_remove", "POST"): "ANNNNLL",
    ("api.gitlink_api.signing_keys_list", "GET"): "AAAAALA",
    ("api.gitlink_api.signing_keys_add", "POST"): "AAAAALF",
    ("api.gitlink_api.signing_keys_remove", "DELETE"): "ANNNNLN",
    ("api.evidence_api.organisation_evidence_create", "POST"): "AFFFFLF",
    ("api.evidence_api.coverage_show", "GET"): "AAAANLA",
    ("api.claims_api.claims_list", "GET"): "AAAANLA",
    ("api.gitlink_api.release_commits_show", "GET"): "AAAANLA",
    ("api.claims_api.claims_put", "PUT"): "AAFFNLF",
    ("api.claims_api.claims_accept", "POST"): "AAFFNLF",
    ("api.claims_api.claims_confirm", "POST"): "AAFFNLF",
    ("api.claims_api.vector_show", "GET"): "AAAANLA",
    ("api.claims_api.releases_compare", "GET"): "AAAANLA",
    # The organisation's maturity: any signed-in user reads it; administrators and security officers (of any
    # product, as for organisation-wide evidence) record it.
    ("api.evidence_api.maturity_show", "GET"): "AAAAALA",
    ("api.evidence_api.maturity_create", "POST"): "AAFFALF",
    ("api.evidence_api.scoping_list", "GET"): "AAAANLA",
    ("api.evidence_api.scoping_create", "POST"): "AAFFNLF",
    ("api.evidence_api.scoping_accept", "POST"): "AAFFNLF",
    ("api.evidence_api.scoping_withdraw", "POST"): "AAFFNLF",
    ("api.evidence_api.intervals_list", "GET"): "AAAANLA",
    ("api.evidence_api.interval_set", "PUT"): "AAFFNLF",
    ("api.evidence_api.interval_reset", "DELETE"): "AAFFNLF",
    ("api.builds_api.artifacts_list", "GET"): "AAAANLA",
    ("api.builds_api.artifacts_record", "POST"): "AAAFNLF",
    ("api.sboms_api.sbom_list", "GET"): "AAAANLA",
    ("api.sboms_api.sbom_import", "POST"): "AAAFNLF",
    ("api.sboms_api.sbom_diff", "GET"): "AAAANLA",
    ("api.modifications_api.modifications_show", "GET"): "AAAANLA",
    (
        "api.modifications_api.modifications_decide",
        "POST",
    ): "AAFFNLF",  # no versions given: 422 past the permission check
    ("api.sboms_api.sbom_show", "GET"): "AAAANLA",
    ("api.sboms_api.sbom_components", "GET"): "AAAANLA",
    ("api.sboms_api.sbom_dependencies", "GET"): "AAAANLA",
    ("api.sboms_api.sbom_original", "GET"): "AAAANLA",
    ("api.sboms_api.sbom_primary", "POST"): "AAAFNLF",
    ("api.sboms_api.policy_show", "GET"): "AAAANLA",
    ("api.sboms_api.policy_update", "PUT"): "AAFFNLF",
    ("api.sboms_api.components_where", "GET"): "AAAAALA",  # the caller's products only
    ("api.sboms_api.release_licences", "GET"): "AAAANLA",
    ("api.sboms_api.release_sbom_history", "GET"): "AAAANLA",
    ("api.sboms_api.component_dependency_paths", "GET"): "AAAANLA",
    ("api.psirt_api.cases_list", "GET"): "AAAAALA",  # the caller's products only
    ("api.psirt_api.cases_create", "POST"): "AAFFNLF",
    ("api.psirt_api.cases_show", "GET"): "AAAANLA",
    ("api.psirt_api.cases_update", "PATCH"): "AAFFNLF",
    ("api.psirt_api.submissions_record", "POST"): "AAFFNLF",
    ("api.psirt_api.intermediate_record", "POST"): "AAFFNLF",
    ("api.psirt_api.cases_timeline", "GET"): "AAAANLA",
    ("api.psirt_api.packets_show", "GET"): "AAAANLA",
    ("api.psirt_api.clocks_list", "GET"): "AAAAALA",  # the caller's products only
    ("api.psirt_api.settings_show", "GET"): "AAAANLA",
    ("api.psirt_api.settings_update", "PUT"): "AAFFNLF",
    ("api.vex_api.release_decisions_list", "GET"): "AAAANLA",
    ("api.vex_api.release_decisions_record", "POST"): "AAFFNLF",
    ("api.vex_api.decisions_show", "GET"): "AAAANLA",
    ("api.vex_api.decisions_confirm", "POST"): "AAFFNLF",
    ("api.vex_api.decisions_delete", "DELETE"): "ANNNNLN",  # as vex.delete
    ("api.vex_api.component_decisions_list", "GET"): "AAAAALA",  # the caller's products only (no purl: 422)
    ("api.vex_api.case_decisions_list", "GET"): "AAAANLA",
    ("api.vex_api.vulnerabilities_show", "GET"): "AAAAALA",  # a CVE is public; a case's reference is not
    ("api.vex_api.vulnerability_decisions_list", "GET"): "AAAAALA",  # the caller's products only
    ("api.vex_api.vulnerabilities_list", "GET"): "AAAAALA",  # the caller's releases only
    ("api.vex_api.vulnerability_affected", "GET"): "AAAAALA",  # the caller's releases only
    ("api.vex_api.vulnerabilities_import", "POST"): "AAFFALF",  # as vex.vulnerability_import; a token needs vex:decide
    ("api.vex_api.case_csaf_preview", "GET"): "AAAANLA",
    ("api.vex_api.case_csaf_publications", "GET"): "AAAANLA",
    ("api.vex_api.case_csaf_publish", "POST"): "AAFFNLF",  # no decision on the matrix case: 422 for officers
    ("api.vex_api.release_vex_export", "GET"): "AAAANLA",  # a read (no format given: 422)
    # The CRA file's risk assessment and support period: members read them, officers record them (an empty form: 422).
    ("cra.risk_assessment", "GET"): "AAAANLL",
    ("cra.risk_assessment", "POST"): "AAFFNLL",
    ("cra.risk_revision", "GET"): "AAAANLL",
    ("cra.support_period", "GET"): "AAAANLL",
    ("cra.support_period", "POST"): "AAFFNLL",
    ("api.cra_api.risk_assessments_list", "GET"): "AAAANLA",
    ("api.cra_api.risk_assessments_record", "POST"): "AAFFNLF",
    ("api.cra_api.risk_assessments_show", "GET"): "AAAANLA",
    ("api.cra_api.support_period_show", "GET"): "AAAANLA",
    ("api.cra_api.support_period_update", "PUT"): "AAFFNLF",
    ("api.gates_api.gate_show", "GET"): "AAAANLA",
    ("api.gates_api.gate_evaluate", "POST"): "AAAANLA",  # a CI token (product:read) asks for a current result
    ("api.gates_api.gate_waive", "POST"): "AAFFNLF",  # a passing or unevaluated rule: 422 for officers
    ("api.gates_api.gate_waiver_revoke", "POST"): "AAFFNLF",  # as gates.revoke_waiver
    ("api.gates_api.gate_signoff", "POST"): "AAFFNLF",  # nothing current and passing: 422 for officers
    ("api.gates_api.gate_verdict", "GET"): "AAAANLA",
    ("api.gates_api.gate_policy_show", "GET"): "AAAANLA",
    ("api.gates_api.gate_policy_yaml_show", "GET"): "AAAANLA",
    ("api.gates_api.gate_policy_put", "PUT"): "AAFFNLF",
    ("api.gates_api.gate_policy_reset", "DELETE"): "AAFFNLF",
    ("api.cra_api.user_information_show", "GET"): "AAAANLA",
    ("api.cra_api.user_information_update", "PUT"): "AAFFNLF",
    ("api.cra_api.declaration_show", "GET"): "AAAANLA",
    ("api.cra_api.declaration_update", "PUT"): "AAFFNLF",
    ("api.cra_api.points_list", "GET"): "AAAANLA",
    ("api.cra_api.points_show", "GET"): "AAAANLA",
    ("api.cra_api.points_put", "PUT"): "AAFFNLF",
    ("api.cra_api.mapping_show", "GET"): "AAAANLA",
    ("api.cra_api.mapping_move", "POST"): "AAFFNLF",  # the release pins the newest already: 422 for officers
    ("api.catalog_api.editions_list", "GET"): "AAAAALA",
    ("api.catalog_api.edition_requirements_list", "GET"): "AAAAALA",
    ("api.catalog_api.requirement_show", "GET"): "AAAAALA",
    ("api.catalog_api.catalog_export", "GET"): "AAAAALA",
    ("api.jobs_api.job_show", "GET"): "AAAANLA",
    ("api.jobs_api.job_retry", "POST"): "AAFFNLF",
    ("api.gitlink_api.repository_scan", "POST"): "AAFFNLF",
    # Developers deliver commits (commits:submit); the commit is stored once, then known to every later caller.
    ("api.gitlink_api.commit_deliver", "POST"): "AAAFNLF",
    ("api.gitlink_api.commit_deliver_batch", "POST"): "AAAFNLF",
    ("api.gitlink_api.commit_show", "GET"): "AAAANLA",
    ("api.outbox_api.webhooks_list", "GET"): "AAFFNLF",
    ("api.outbox_api.webhooks_add", "POST"): "AAFFNLF",
    ("api.outbox_api.webhooks_update", "PATCH"): "AAFFNLF",
    ("api.outbox_api.webhooks_remove", "DELETE"): "AAFFNLF",
    ("api.outbox_api.webhooks_test", "POST"): "AAFFNLF",
}

_unique = itertools.count(1)


MULTIPART = {
    "api.evidence_api.evidence_create": {"kind": "other", "title": "Matrix", "requirements": ["SR-2"]},
    "api.evidence_api.organisation_evidence_create": {
        "kind": "process-document",
        "title": "SDL",
        "requirements": ["SM-1"],
    },
    "api.evidence_api.evidence_revise": {"title": "Matrix, revised"},
    "api.sboms_api.sbom_import": {"title": "Matrix"},
    "api.vex_api.vulnerabilities_import": {},
}
SUPPLIER_VEX = Path(__file__).resolve().parent / "vex" / "data" / "feeds" / "cyclonedx-vex.json"
# The file part each multipart endpoint gets (a valid document where the endpoint reads it).
MULTIPART_FILES = {
    "api.sboms_api.sbom_import": (dumps(json_bom()), "bom.json"),
    # A supplier's VEX: the file security officers may import too.
    "api.vex_api.vulnerabilities_import": (SUPPLIER_VEX.read_bytes(), "vex.json"),
}


# A commit object as a hook sends it (the empty tree, no parent): its id is the SHA-1 of its bytes.
RAW_COMMIT = (
    b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
    b"author Dana <dev@example.com> 1764000000 +0000\ncommitter Dana <dev@example.com> 1764000000 +0000\n\n"
    b"Matrix\n\nSecurity-Requirement: CR 1.1\n"
)
# Public keys made for this test with `ssh-keygen -t ed25519` (their private halves were thrown away).
MATRIX_SSH_KEYS = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7NyjdRGVRsq07QENnAntEmkoH5l55mOSEuMoxC3CW1 matrix-1",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIOw2wnyHkIIS3/SZWCa4rRuJwhlYPJMx8PT2pJAlR26 matrix-2",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF5MOkz9U5TrYOw0MKGMeV07vYRN/9CG9+52L1sbPVLZ matrix-3",
)
COMMIT = {"raw": base64.b64encode(RAW_COMMIT).decode(), "sha": object_id(RAW_COMMIT, "sha1")}
# Release 1.1 of the matrix product adds an MQTT broker to 1.0's SBOM: a signal to decide on.
MOSQUITTO = (
    '<component type="library" bom-ref="mq"><name>mosquitto</name><version>2.0.18</version>'
    "<purl>pkg:generic/mosquitto@2.0.18</purl></component>"
)
MODIFICATION_KEY = "network-facing:added:pkg:generic/mosquitto"


def _api_body(endpoint: str) -> dict[str, Any] | None:
    """A valid body, so the answer depends on who asks and not on what they sent."""
    n = next(_unique)
    levels = {f"FR{i}": 2 for i in range(1, 8)}
    bodies: dict[str, dict[str, Any]] = {
        "api.products_api.products_create": {
            "name": f"Matrix product {n}",
            "component_type": "SAR",
            "target_sl": levels,
        },
        "api.products_api.products_update": {"vendor": "Matrix"},
        "api.products_api.releases_create": {"version": f"9.{n}"},
        "api.products_api.releases_update": {"status": "candidate"},
        "api.products_api.repositories_create": {"name": f"repo-{n}", "location": "https://git.example.com/r.git"},
        "api.products_api.repositories_update": {"ref_patterns": ["refs/heads", "refs/tags"]},
        "api.gitlink_api.commit_deliver": COMMIT,
        "api.gitlink_api.signing_keys_add": {"public_key": MATRIX_SSH_KEYS[2]},
        "api.gitlink_api.commit_deliver_batch": {"commits": [COMMIT]},
        "api.evidence_api.evidence_review": {"decision": "accept"},
        "api.evidence_api.evidence_bulk_review": {"items": [{"evidence_id": 1, "revision": 1}], "decision": "accept"},
        "api.claims_api.claims_put": {"status": "implemented"},
        "api.sboms_api.policy_update": {"strict": False},
        "api.modifications_api.modifications_decide": {"key": MODIFICATION_KEY, "verdict": "confirmed"},
        "api.builds_api.artifacts_record": {"artifacts": [{"name": f"fw-{n}.bin", "size": n, "sha256": "ab" * 32}]},
        "api.evidence_api.maturity_create": {
            "practice": "SM",
            "level": 2,
            "rationale": "Matrix",
            "assessed_on": "2026-11-01",
        },
        "api.evidence_api.scoping_create": {"requirement": "SM-10", "justification": "Matrix"},
        "api.evidence_api.scoping_withdraw": {"reason": "Matrix"},
        "api.evidence_api.interval_set": {"months": 12},
        "api.psirt_api.cases_create": {
            "kind": "vulnerability",
            "title": f"Matrix case {n}",
            "source": "researcher",
            "received_at": _moment(hours=-1),
        },
        "api.psirt_api.cases_update": {"description": f"Matrix {n}"},
        "api.psirt_api.submissions_record": {"submitted_at": _moment(minutes=-1), "stages": ["early-warning"]},
        "api.psirt_api.intermediate_record": {"requested_at": _moment(minutes=-1), "due_at": _moment(days=2)},
        "api.psirt_api.settings_update": {"zone": "Europe/Berlin"},
        "api.outbox_api.webhooks_add": {"url": f"https://hooks.example.com/matrix-{n}"},
        "api.outbox_api.webhooks_update": {"enabled": False},
        "api.accounts_api.account_update": {"time_zone": "Europe/Berlin"},
        "api.vex_api.release_decisions_record": {"vulnerability": "CVE-2024-3094", "status": "fixed"},
        "api.vex_api.case_csaf_publish": {"profile": "csaf_vex", "status": "final", "tlp": "WHITE", "summary": "x"},
        "api.cra_api.risk_assessments_record": {"intended_purpose": f"Matrix {n}"},
        "api.cra_api.support_period_update": {"starts_on": "2026-01-01", "ends_on": f"{2031 + n % 50}-12"},
        "api.cra_api.user_information_update": {"items": {"AII.1": {"text": f"Matrix {n}"}}},
        "api.cra_api.declaration_update": {"manufacturer_name": f"Matrix {n}", "conformity_route": "module_a"},
        "api.cra_api.points_put": {"applicable": True, "measures": "Matrix"},
        "api.cra_api.mapping_move": {"version": "2026.2"},
        "api.gates_api.gate_waive": {
            "rule": "commits_reviewed",
            "justification": "Matrix",
            "expires_at": _moment(days=30),
        },
        "api.gates_api.gate_signoff": {"note": "Matrix"},
        "api.gates_api.gate_policy_put": policy_document(Policy()),
    }
    return bodies.get(endpoint)


def _moment(**delta: float) -> str:
    """A time this far from now, as the API takes it."""
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


@dataclass
class World:
    """The product the members belong to, and one of everything an URL can name."""

    values: dict[str, str]
    users: dict[str, User]
    overrides: dict[str, dict[str, str]]  # per endpoint, values that differ


@pytest.fixture
def world(session: Session) -> World:
    product = make_product(session, "Matrix", cvd_policy_url="https://psirt.example.com/cvd")
    release = make_release(session, product, "1.0")
    users = {"admin": make_user(session, "admin@example.com", admin=True)}
    for role in ("security_officer", "developer", "auditor"):
        member(session, product, role, email=f"{role}@example.com")
        users[role] = session.query(User).filter_by(email=f"{role}@example.com").one()
    outsider_product = make_product(session, "Elsewhere")
    member(session, outsider_product, "security_officer", email="non_member@example.com")
    users["non_member"] = session.query(User).filter_by(email="non_member@example.com").one()
    victim = make_user(session, "victim@example.com")
    add_member(session, OPERATOR, outsider_product.id, email=victim.email, role="developer")
    victim_token = create_token(
        session, OPERATOR, user_id=victim.id, name="victim's", product_ids=[outsider_product.id]
    ).token
    upload = Upload("model.json", "application/json", io.BytesIO(b'{"threats": []}'))
    evidence = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="threat-model",
        data=EvidenceInput(title="Model", requirements=["SR-2"], files=[upload], details={"threats_total": 2}),
    )
    # Reviews get evidence of their own: other routes revise `evidence` and so become its submitters.
    second = Upload("review.txt", "text/plain", io.BytesIO(b"reviewed"))
    picture = io.BytesIO()
    Image.new("RGB", (8, 8)).save(picture, "PNG")
    shot = Upload("shot.png", "image/png", io.BytesIO(picture.getvalue()))
    to_review = create_evidence(
        session,
        OPERATOR,
        product_id=product.id,
        kind="code-review",
        data=EvidenceInput(
            title="Review",
            requirements=["SI-1"],
            files=[second, shot],
            details={"change": "a1..b2", "reviewer": "Rita Reviewer"},
        ),
    )
    sbom = import_sbom(session, OPERATOR, release.id, Upload("fw.xml", "", io.BytesIO(xml_bom()))).sbom
    later = make_release(session, product, "1.1")
    import_sbom(session, OPERATOR, later.id, Upload("fw.xml", "", io.BytesIO(xml_bom(extra_component=MOSQUITTO))))
    job, _ = enqueue(session, OPERATOR, kind="tests.matrix", arguments={}, product_id=product.id)
    repository = add_repository(session, OPERATOR, product.id, name="matrix", location="https://git.example.com/m.git")
    removed = add_repository(session, OPERATOR, product.id, name="removed", location="https://git.example.com/r.git")
    deliver_commits(session, OPERATOR, product.id, repository.name, [Delivery(RAW_COMMIT, COMMIT["sha"])], {})
    edition = find_edition(session, "IEC 62443-4-2", "2019")
    assert edition is not None
    set_claim(session, OPERATOR, release.id, "CR 1.1", ClaimInput("implemented"))  # accept/confirm find a claim
    scoping = propose_scoping(session, OPERATOR, product.id, requirement="SM-11", justification="Matrix")
    # An actively exploited vulnerability, so submissions and intermediate requests have clocks to stop.
    case = create_case(
        session,
        OPERATOR,
        product.id,
        kind="vulnerability",
        title="Matrix",
        source="researcher",
        received_at=datetime.now(UTC) - timedelta(hours=3),
        facts={"aware_at": datetime.now(UTC) - timedelta(hours=2)},
    )
    # A confirmed VEX decision to show, and unconfirmed ones (matched) to confirm and to delete, per door.
    shown = record_decision(session, OPERATOR, release.id, "CVE-2024-3094", DecisionInput("affected", action="Update"))
    publication = _published(session, product, release)
    proposed = [
        record_decision(
            session,
            OPERATOR,
            release.id,
            "CVE-2024-3094",
            DecisionInput("under_investigation"),
            component=purl,
            origin=DecisionOrigin.MATCH,
        ).id
        for purl in ("pkg:generic/a", "pkg:generic/b", "pkg:generic/c", "pkg:generic/d")
    ]
    # The CRA file's risk assessment (revision 1, resting on the threat model) and support period, to read.
    record_risk_assessment(
        session, OPERATOR, product.id, RiskAssessmentInput("Matrix", threat_model_evidence_id=evidence.id)
    )
    record_support_period(session, OPERATOR, product.id, SupportPeriodInput(date(2026, 1, 1), date(2031, 12, 1)))
    # A signed-off evaluation to download the verdict of, and a waiver per door to revoke.
    evaluation = GateEvaluation(
        release_id=release.id,
        outcome=Outcome.PASS,
        facts={},
        facts_digest="0" * 64,
        policy=policy_document(Policy()),
        policy_digest="0" * 64,
        results=[],
        evaluated_by="cli:matrix",
    )
    session.add(evaluation)
    session.flush()
    signoff = GateSignoff(
        release_id=release.id,
        evaluation_id=evaluation.id,
        envelope='{"payload": "", "payloadType": "application/vnd.in-toto+json", "signatures": []}',
        key_id="0" * 16,
        signed_by="cli:matrix",
    )
    waivers = [
        GateWaiver(
            release_id=release.id,
            rule=RuleId.COMMITS_REVIEWED,
            justification="Matrix",
            expires_at=datetime.now(UTC) + timedelta(days=30),
            created_by="cli:matrix",
        )
        for _ in range(2)
    ]
    session.add_all([signoff, *waivers])
    session.flush()
    # Tests go to one endpoint, enabling and disabling to another, removal to a third.
    tested, toggled, removed_hook = (
        add_webhook(session, OPERATOR, product.id, url=f"https://hooks.example.com/{name}").endpoint
        for name in ("tested", "toggled", "removed")
    )
    session.commit()
    values = {
        "product_id": str(product.id),
        "release_id": str(release.id),
        "user_id": str(victim.id),
        "edition_id": str(edition.id),
        "ref": quote("CR 1.1"),
        "filename": "app.css",
        "other_id": str(release.id),
        "token_id": str(victim_token.id),
        "evidence_id": str(evidence.id),
        "artifact_id": str(evidence.current.artifacts[0].id),
        "sbom_id": str(sbom.id),
        "key_id": installation(session).keys.active().key_id,
        "job_id": str(job.id),
        "repository_id": str(repository.id),
        "name": repository.name,
        "sha": COMMIT["sha"],
        "scoping_id": str(scoping.id),
        "case_id": str(case.id),
        "stage": "early-warning",
        "kind": "threat-model",
        "notification_id": "1",
        "webhook_id": str(tested.id),
        "page": "1",
        "position": "0",
        "decision_id": str(shown.id),
        "vulnerability": "CVE-2024-3094",
        "profile": "csaf_vex",
        "publication_id": str(publication.id),
        "extension": "json",
        "path": "provider-metadata.json",
        "number": "1",
        "signoff_id": str(signoff.id),
        "waiver_id": str(waivers[0].id),
    }
    overrides = {
        endpoint: {"evidence_id": str(to_review.id)}
        for endpoint in ("evidence.review", "api.evidence_api.evidence_review")
    }
    overrides["evidence.preview_png"] = {"artifact_id": str(to_review.current.artifacts[1].id)}
    for endpoint in ("cra.point", "api.cra_api.points_show", "api.cra_api.points_put"):
        overrides[endpoint] = {"ref": "I.2a"}
    overrides["api.gates_api.gate_waiver_revoke"] = {"waiver_id": str(waivers[1].id)}
    overrides["api.modifications_api.modifications_decide"] = {"release_id": str(later.id)}
    # The review requests of the evidence made above went to the product's security officer alone.
    officers = session.scalars(select(Notification.id).where(Notification.user_id == users["security_officer"].id))
    overrides["api.accounts_api.notification_read"] = {"notification_id": str(min(officers))}
    for endpoint in ("products.remove_repository_view", "api.products_api.repositories_delete"):
        overrides[endpoint] = {"repository_id": str(removed.id)}
    for endpoint in ("outbox.disable", "outbox.enable", "api.outbox_api.webhooks_update"):
        overrides[endpoint] = {"webhook_id": str(toggled.id)}
    for endpoint in ("outbox.remove", "api.outbox_api.webhooks_remove"):
        overrides[endpoint] = {"webhook_id": str(removed_hook.id)}
    for endpoint, decision_id in zip(
        ("vex.confirm", "api.vex_api.decisions_confirm", "vex.delete", "api.vex_api.decisions_delete"),
        proposed,
        strict=True,
    ):
        overrides[endpoint] = {"decision_id": str(decision_id)}
    victim_actor = Principal(label=f"user:{victim.email}", user_id=victim.id)
    for endpoint, text in (("gitlink.signing_key_remove", 0), ("api.gitlink_api.signing_keys_remove", 1)):
        overrides[endpoint] = {"key_id": str(register_key(session, victim_actor, MATRIX_SSH_KEYS[text]).id)}
    session.commit()
    return World(values, users, overrides)


def _published(session: Session, product: Product, release: Release) -> CsafPublication:
    """A published CSAF document of a case of the product (its vendor's CVD policy names the publisher)."""
    case = create_case(
        session,
        OPERATOR,
        product.id,
        kind="vulnerability",
        title="Published",
        source="researcher",
        received_at=datetime.now(UTC) - timedelta(hours=3),
        facts={"description": "A published case.", "cvss_v31": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
    )
    record_decision(session, OPERATOR, release.id, case.reference, DecisionInput("fixed"))
    return publish_csaf(
        session, OPERATOR, case.id, profile=CsafProfile.VEX, status=TrackingStatus.FINAL, tlp="WHITE", summary="x"
    )


def _url(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)


def _routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, rule.rule


def _sign_in(client: FlaskClient, session: Session, user: User | None) -> str:
    """Put the user in the session cookie (no password round trip) and return a CSRF token."""
    if user is not None:
        session.refresh(user)  # signing out (a route under test) moves the user's session epoch on
    with client.session_transaction() as cookie:
        cookie.clear()
        if user is not None:
            cookie["user_id"] = user.id
            cookie["epoch"] = user.session_epoch
    response = client.get("/account" if user else "/login")
    page = response.get_data(as_text=True)
    response.close()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match
    return match.group(1)


def _outcome(response: Any, api: bool) -> str:
    if api and response.status_code == 401:
        return "L"
    if not api and response.status_code == 302 and "/login?next=" in response.headers["Location"]:
        return "L"
    if response.status_code == 403:
        return "F"
    if response.status_code == 404:
        return "N"
    if response.status_code < 400 or response.status_code == 422:
        return "A"
    return f"?{response.status_code}"


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    routed = {(endpoint, method) for endpoint, method, _ in _routes(app)}
    assert routed - MATRIX.keys() == set(), "new routes need a row in MATRIX"
    assert MATRIX.keys() - routed == set(), "MATRIX names routes that no longer exist"


def test_permission_matrix(app: Flask, client: FlaskClient, api: ApiClient, world: World, session: Session) -> None:
    tokens = {actor: api.as_user(user.email) for actor, user in world.users.items()}
    tokens["read_token"] = api.as_user(
        "security_officer@example.com", scopes=["product:read"], product_ids=[int(world.values["product_id"])]
    )
    mismatches = []
    for actor_index, actor in enumerate(ACTORS):
        user = world.users.get(actor)
        for endpoint, method, rule in _routes(app):
            is_api = rule.startswith("/api/")
            url = _url(rule, {**world.values, **world.overrides.get(endpoint, {})})
            if is_api and endpoint in MULTIPART:
                content, name = MULTIPART_FILES.get(endpoint, (b"evidence", "e.txt"))
                parts = {"metadata": json.dumps(MULTIPART[endpoint]), "file": (io.BytesIO(content), name)}
                response = api.call(method, url, tokens.get(actor), data=parts, content_type="multipart/form-data")
            elif is_api:
                response = api.call(
                    method, url, tokens.get(actor), json=_api_body(endpoint) if method != "GET" else None
                )
            else:
                token = _sign_in(client, session, user)
                if endpoint == "accounts.logout_view":
                    data = {"csrf_token": token}
                else:
                    data = {"csrf_token": token, "email": "", "password": ""}
                response = client.open(url, method=method, data=data if method == "POST" else None)
            got, expected = _outcome(response, is_api), MATRIX[(endpoint, method)][actor_index]
            response.close()
            if got != expected:
                mismatches.append(f"{actor:>16} {method:<5} {url}: expected {expected}, got {got}")
    assert mismatches == [], "\n".join(mismatches)
