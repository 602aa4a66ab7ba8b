"""A product's network and other interfaces: what a door gives, its checks, and replacing them in place."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..errors import FieldError
from .fields import enum_value
from .models import Interface, InterfaceKind, Product
from .rules import name_problem


@dataclass(frozen=True)
class InterfaceData:
    """An interface as given by a door."""

    name: str
    kind: str
    protocol: str = ""
    port: int | None = None


def validate_interfaces(interfaces: Sequence[InterfaceData], errors: list[FieldError]) -> list[Interface]:
    """Interface rows for the data given (names unique case-insensitively), errors added to `errors`."""
    rows: list[Interface] = []
    seen: set[str] = set()
    for index, data in enumerate(interfaces):
        prefix = f"interfaces[{index}]"
        problem = name_problem(data.name, "interface name")
        if problem:
            errors.append(FieldError(f"{prefix}.name", problem))
        elif data.name.lower() in seen:
            errors.append(FieldError(f"{prefix}.name", f"interface {data.name!r} is listed twice"))
        seen.add(data.name.lower())
        kind = enum_value(InterfaceKind, data.kind, f"{prefix}.kind", errors)
        if data.port is not None and not 1 <= data.port <= 65535:
            errors.append(FieldError(f"{prefix}.port", "a port is 1-65535"))
        if len(data.protocol) > 120:
            errors.append(FieldError(f"{prefix}.protocol", "at most 120 characters"))
        rows.append(Interface(name=data.name, kind=kind, protocol=data.protocol.strip(), port=data.port))
    return rows


def replace_interfaces(session: Session, product: Product, rows: Iterable[Interface]) -> None:
    """Make the product's interfaces these rows, keeping the rows whose names survive."""
    # Keep rows whose name survives (their ids may be referenced later, e.g. by fuzz campaigns).
    new_by_name = {row.name.lower(): row for row in rows}
    for existing in list(product.interfaces):
        replacement = new_by_name.pop(existing.name.lower(), None)
        if replacement is None:
            product.interfaces.remove(existing)
        else:
            existing.name = replacement.name
            existing.kind = replacement.kind
            existing.protocol = replacement.protocol
            existing.port = replacement.port
    session.flush()  # deletes first, so a renamed interface cannot collide with a removed one
    product.interfaces.extend(new_by_name.values())
