"""A release's Annex II user information and the data of its EU declaration of conformity, with the route."""

from __future__ import annotations
