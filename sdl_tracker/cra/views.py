"""The CRA conformity file's pages: a release's file and completeness, each Annex I point, the product's risk
assessment and support period, the release's user information and declaration data."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cra", __name__)


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
