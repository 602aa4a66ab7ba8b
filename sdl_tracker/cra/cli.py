"""`sdl-tracker cra` commands: show and check a release's CRA file, record Annex I points, move the mapping
version, record the risk assessment, support period, user information and declaration data."""

from __future__ import annotations

from flask.cli import AppGroup

cra = AppGroup("cra", help="The CRA conformity file: Annex I applicability, risk assessment, support period, DoC data.")


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
