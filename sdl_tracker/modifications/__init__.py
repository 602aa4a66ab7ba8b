"""Substantial-modification signals of a release, and the security officer's decisions on them."""
