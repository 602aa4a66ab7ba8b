"""Pure: the gate rules and their evaluation (no database, Flask or clock)."""

from __future__ import annotations
