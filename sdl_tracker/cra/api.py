"""The CRA conformity file over /api/v1: the file and its completeness, Annex I points, the mapping version, the
risk assessment, support period, user information and declaration data."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cra_api", __name__)


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
