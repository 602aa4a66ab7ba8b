"""Signals that let higher features answer what gitlink asks of them without being imported here."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the session as sender and `product_id`, `value` (what a `Fixes-PSIRT:` trailer of one of the product's
# commits says) as keywords, inside the transaction that stores the commit. A receiver answers with the case's
# reference as the register writes it when a fix of that case may record DM-4 for the product, and raises Invalid
# saying why not otherwise. Without a receiver nothing can confirm the case, and no fix is recorded.
psirt_case_named = _signals.signal("psirt-case-named")
