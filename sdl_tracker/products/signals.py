"""Signals that let higher features react to product events without being imported here."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the session as sender and `release`, `actor` as keywords, inside the transaction.
release_created = _signals.signal("release-created")

# Sent with the session as sender and `release`, `actor`, `status` (the status it is about to take) as keywords,
# inside the transaction, before a release is created as or changed to released: a receiver that refuses raises
# a DomainError, and nothing is written (release gates: only a signed-off, current gate lets a release ship).
release_shipping = _signals.signal("release-shipping")
