"""Signals that let higher features react to account events without being imported here."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the session as sender and `notifications` (the new rows, flushed) as keyword, inside the
# transaction that wrote them: a feature that also tells the users elsewhere (e-mail) queues it there.
notified = _signals.signal("notified")
