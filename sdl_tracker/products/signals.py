"""Signals that let higher features react to product events without being imported here."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the session as sender and `release`, `actor` as keywords, inside the transaction.
release_created = _signals.signal("release-created")
