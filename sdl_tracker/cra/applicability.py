"""Annex I applicability per release: each point applicable or not, its measures and evidence (the mapping's and
linked by hand), and the release's pinned mapping version."""

from __future__ import annotations
