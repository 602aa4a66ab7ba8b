"""CRA conformity file: Annex I applicability, risk assessment, support period, user information, DoC data."""
