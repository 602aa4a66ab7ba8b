"""Pure: a gate policy, its defaults per component type and target SL-C, and its YAML form."""

from __future__ import annotations
