"""Where the app finds its templates and migrations: inside the package when installed, else the checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent


def resource_dir(name: str) -> Path:
    """The folder `name` (templates, migrations): the wheel maps it into the package."""
    packaged = PACKAGE_DIR / name
    if packaged.is_dir():
        return packaged
    checkout = CHECKOUT_DIR / name
    if checkout.is_dir():
        return checkout
    raise RuntimeError(f"the {name} folder is missing from both {packaged} and {checkout}")
