"""A release's CRA file as a whole, and what it still lacks before it can be exported."""

from __future__ import annotations
