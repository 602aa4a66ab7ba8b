"""A product's cybersecurity risk assessment (revisions) and how its support period was set."""

from __future__ import annotations
