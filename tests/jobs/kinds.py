"""Job kinds that exist only in tests: phases with a pause between them, so a worker can be killed mid-job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sdl_tracker.jobs.registry import JobContext, register
from sdl_tracker.products.services import create_product

PUBLISH = "tests.publish"
BROKEN = "tests.broken"
REFUSED = "tests.refused"
CLEANUPS: list[int] = []


def _publish(context: JobContext) -> dict[str, Any]:
    """Stage (a marker file per attempt), pause, then publish a product and complete in one transaction."""
    args = context.arguments
    markers = Path(args["markers"]) if args.get("markers") else None
    with context.write() as session:
        context.progress(session, 1, 2, "staged")
    if markers:
        (markers / f"staged-{context.attempt}").touch()
    if context.attempt == 1:
        time.sleep(float(args.get("pause_first", 0)))
    with context.write() as session:
        actor = context.actor(session)
        product = create_product(
            session,
            actor,
            name=args["name"],
            component_type="EDR",
            target_sl=dict.fromkeys(("FR1", "FR2", "FR3", "FR4", "FR5", "FR6", "FR7"), 2),
        )
        context.progress(session, 2, 2, "published")
        context.finish(session, {"product_id": product.id})
    return {"product_id": product.id}


def _broken(context: JobContext) -> dict[str, Any]:
    raise RuntimeError(f"broken on attempt {context.attempt}")


def _refused(context: JobContext) -> dict[str, Any]:
    from sdl_tracker.errors import Invalid

    raise Invalid.field("name", "not a name this job accepts")


def _cleanup(context: JobContext) -> None:
    CLEANUPS.append(context.attempt)


def register_test_kinds() -> None:
    """Add the test-only kinds to the registry."""
    register(PUBLISH, _publish)
    register(BROKEN, _broken, _cleanup)
    register(REFUSED, _refused, _cleanup)
