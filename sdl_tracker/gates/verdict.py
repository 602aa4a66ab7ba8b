"""Pure: a gate verdict as an in-toto statement in a DSSE envelope, signed and verified with Ed25519 keys."""

from __future__ import annotations
