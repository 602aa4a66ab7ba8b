"""OWASP Threat Dragon models (JSON, format versions 1 and 2) into threat model details."""

from __future__ import annotations

import json
from typing import Any

from ..boundary import MAX_DOCUMENT_DEPTH, TooDeep, loads_json
from ..errors import Invalid
from .details import ThreatMethod

MAX_MODEL_BYTES = 20 * 1024 * 1024
MAX_THREATS = 5000  # as many as the threat model schema keeps
STATUS_OPEN = "open"
STATUS_MITIGATED = "mitigated"


def _refuse(reason: str) -> Invalid:
    return Invalid.field("threat_dragon", f"not a usable Threat Dragon model: {reason}")


def _cells(diagram: dict[str, Any]) -> list[Any]:
    # Version 2 keeps the cells on the diagram; version 1 under diagramJson.
    legacy = diagram.get("diagramJson")
    cells = diagram.get("cells", legacy.get("cells", []) if isinstance(legacy, dict) else [])
    if not isinstance(cells, list):
        raise _refuse("a diagram's cells are not a list")
    return cells


def _data(cell: dict[str, Any]) -> dict[str, Any]:
    data = cell.get("data")
    return data if isinstance(data, dict) else {}


def _element_name(cell: dict[str, Any]) -> str:
    data = _data(cell)
    attrs = cell.get("attrs")
    text = attrs.get("text") if isinstance(attrs, dict) else None
    label = text.get("text") if isinstance(text, dict) else None
    name = data.get("name") or label or cell.get("type") or ""
    return str(name)[:200]


def _threats(cell: dict[str, Any]) -> list[Any]:
    data = _data(cell)
    threats = data.get("threats", cell.get("threats", []))
    if threats is None:
        return []
    if not isinstance(threats, list):
        raise _refuse("a cell's threats are not a list")
    return threats


def parse_threat_dragon(raw: bytes) -> dict[str, Any]:
    """Threat model details (method, scope, counts, threats) from a Threat Dragon JSON model."""
    if len(raw) > MAX_MODEL_BYTES:
        raise _refuse(f"larger than {MAX_MODEL_BYTES // (1024 * 1024)} MiB")
    try:
        model = loads_json(raw.decode("utf-8"), max_depth=MAX_DOCUMENT_DEPTH)
    except UnicodeDecodeError:
        raise _refuse("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _refuse(f"not JSON ({exc.msg} at line {exc.lineno})") from None
    except TooDeep:
        raise _refuse("nested too deeply") from None
    if not isinstance(model, dict) or not isinstance(model.get("summary"), dict):
        raise _refuse("no summary object")
    detail = model.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("diagrams"), list):
        raise _refuse("no detail.diagrams list")

    threats: list[dict[str, str]] = []
    methods: list[str] = []
    for diagram in detail["diagrams"]:
        if not isinstance(diagram, dict):
            raise _refuse("a diagram is not an object")
        methods.append(str(diagram.get("diagramType", "")))
        for cell in _cells(diagram):
            if not isinstance(cell, dict):
                raise _refuse("a cell is not an object")
            for threat in _threats(cell):
                if len(threats) >= MAX_THREATS:
                    raise _refuse(f"more than {MAX_THREATS} threats")
                if not isinstance(threat, dict) or not isinstance(threat.get("title"), str):
                    raise _refuse("a threat has no title")
                threats.append(
                    {
                        "title": threat["title"][:300],
                        "status": str(threat.get("status", "Open"))[:40],
                        "severity": str(threat.get("severity", ""))[:40],
                        "category": str(threat.get("type", ""))[:80],
                        "element": _element_name(cell),
                        "mitigation": str(threat.get("mitigation", ""))[:4000],
                    }
                )
    statuses = [t["status"].lower() for t in threats]
    method = next((m for m in ThreatMethod if m.value.upper() in {x.upper() for x in methods}), ThreatMethod.OTHER)
    summary = model["summary"]
    return {
        "method": method.value,
        "scope": str(summary.get("title", ""))[:1000],
        "threats_total": len(threats),
        "threats_open": statuses.count(STATUS_OPEN),
        "threats_mitigated": statuses.count(STATUS_MITIGATED),
        "threats": threats,
    }
