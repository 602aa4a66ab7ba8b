"""Output shapes of the CRA file (the API publishes them)."""

from __future__ import annotations


# === Annex I applicability and the mapping version (applicability) ===


# === end ===


# === risk assessment and support period (records) ===


# === end ===


# === Annex II user information and declaration of conformity (declarations) ===


# === end ===


# === the file as a whole and its completeness (completeness) ===


# === end ===
