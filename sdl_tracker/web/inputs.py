"""The input boundary for what every request carries outside its forms and bodies: query arguments and
the text parts of its path (forms are bounded by `web.forms`, API bodies by `api.inputs`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request, url_for

from ..boundary import MAX_ID, page_problem, parse_whole, text_problem
from ..errors import Invalid, NotFound


def _refuse_unprintable_arguments() -> None:
    """A query argument is one line of text; a path whose text part holds a control character names
    nothing. Checked once for every route, so no view can pass such a value to the database."""
    for name, value in request.args.items(multi=True):
        problem = text_problem(name) or text_problem(value)
        if problem:
            raise Invalid.field(name if not text_problem(name) else "query", problem)
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and text_problem(value):
            raise NotFound("not found")


def local_path(target: str | None) -> str:
    """`target` when it is a path of this site, else the home page: for every way back or onward that a request
    names ("next" after signing in, "back" after a bulk review). An open redirect would let a phishing link
    borrow our pages. Browsers read a backslash as a slash and drop tabs and newlines anywhere in a URL, so
    "/\\evil.example", and "/", a tab, "/evil.example", would leave the site too."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)
        or urlsplit(target).netloc
    ):
        return url_for("dashboard.index")
    return target


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows fill, `per_page` a page (at least one, so an empty list has its page)."""
    return max(1, -(-total // per_page))


def page_number(name: str = "page") -> int:
    """The page a list view is asked for (1 when absent), or Invalid when it is not a page number."""
    raw = request.args.get(name, "1")
    problem = page_problem(raw)
    if problem:
        raise Invalid.field(name, problem)
    return int(raw)


def id_argument(name: str) -> int | None:
    """The row id a query argument names (None when absent), or Invalid when it is not an id."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    number = parse_whole(raw)
    if number is None or not 1 <= number <= MAX_ID:
        raise Invalid.field(name, f"{name} must be an id from 1 to {MAX_ID}")
    return number


def init_input_boundary(app: Flask) -> None:
    """Check every request's arguments before any view runs."""
    app.before_request(_refuse_unprintable_arguments)
