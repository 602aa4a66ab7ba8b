"""Vulnerabilities and VEX: known vulnerabilities matched to releases, one store of decisions, CSAF and VEX out."""
