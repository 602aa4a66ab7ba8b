"""The input boundary: the one set of rules every door (pages, API, command line) applies to what users
send, so that nothing out of range or unprintable reaches a service or the database.

Each door adapts these rules to its own way of refusing (a form error, a 422 problem, exit 2); see
`web.forms`, `api.inputs` and `commands`. docs/architecture.md says why each bound is what it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

# Integer columns are 32 bits on PostgreSQL (the narrower engine): a bigger number names no row and
# cannot be stored, on SQLite too, so both engines answer alike.
MIN_INT = -(2**31)
MAX_INT = 2**31 - 1
MAX_ID = MAX_INT

# A user-entered day: from the Unix epoch to the end of the 29th century. Nothing the tracker records
# (releases, evidence, support periods, tokens, audit filters) lies outside it, and the margin to
# date.max keeps every computed day (an expiry, a review interval, "until" plus a day) representable.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2999, 12, 31)
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")

MAX_PAGE = 1_000_000  # pages of lists; a page beyond the last is simply empty

# JSON nesting: request bodies are a few levels deep; uploaded documents (SBOMs nest components) more.
# Both stay far below Python's recursion limit, which the parser and the validators would otherwise hit.
MAX_BODY_DEPTH = 32
MAX_DOCUMENT_DEPTH = 128

# Characters that have no place in text a user types: C0 controls, DEL, C1 controls, the Unicode line
# and paragraph separators, the bidirectional embedding, override and isolate controls (invisible, they
# make a title or a justification read differently from what is stored: "Trojan Source", CVE-2021-42574;
# the marks U+200E/U+200F that mixed-direction text needs stay allowed), and lone surrogates (what
# undecodable bytes in a command's arguments or a JSON `\ud800` escape become: no database can store
# them as text). Multi-line text may hold tab, line feed and carriage return.
_INVISIBLE = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_LINE_FORBIDDEN = re.compile(rf"[\x00-\x1f{_INVISIBLE}]")
_LINE_FORBIDDEN_RUN = re.compile(_LINE_FORBIDDEN.pattern + "+")
_TEXT_FORBIDDEN = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f{_INVISIBLE}]")


def text_problem(value: str, *, multi_line: bool = False) -> str | None:
    """Why `value` is not acceptable text (None when it is): a control character, named by code point."""
    found = (_TEXT_FORBIDDEN if multi_line else _LINE_FORBIDDEN).search(value)
    if found is None:
        return None
    where = "" if multi_line else "a single line of text: "
    return f"{where}control character U+{ord(found.group()):04X} at position {found.start() + 1} is not allowed"


def leaves(value: Any) -> Iterator[Any]:
    """Everything in `value` that is not a list, tuple, set or mapping, however nested, with the keys of
    its mappings: the values a rule checks one by one. Iterative, so depth costs no recursion."""
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            pending.extend(node.keys())
            pending.extend(node.values())
        elif isinstance(node, (list, tuple, set, frozenset)):
            pending.extend(node)
        else:
            yield node


def value_problem(value: Any, *, multi_line: bool = False) -> str | None:
    """Why one typed value is outside the boundary (None when it is inside), by its type: text by the
    text rules, a whole number by the database's range, a day (or a moment's day) by the recorded range."""
    if isinstance(value, str):
        return text_problem(value, multi_line=multi_line)
    if isinstance(value, datetime):
        return day_problem(value.date())
    if isinstance(value, date):
        return day_problem(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int_problem(value)
    return None


def document_text_problem(document: Any, *, multi_line: bool = False) -> str | None:
    """Why a JSON document a person wrote (a details file) holds unacceptable text, in a key or a string
    value however nested (None when it holds none): the rule a form or an API body gets, for files."""
    for leaf in leaves(document):
        if isinstance(leaf, str) and (problem := text_problem(leaf, multi_line=multi_line)):
            return problem
    return None


def one_line(text: str) -> str:
    """Foreign text made fit for a single-line field (a title taken from an imported document): each run
    of characters a line may not hold becomes one space."""
    return _LINE_FORBIDDEN_RUN.sub(" ", text)


def int_problem(value: int) -> str | None:
    """Why `value` cannot be stored or looked up (None when it can)."""
    if MIN_INT <= value <= MAX_INT:
        return None
    return f"must be a whole number from {MIN_INT} to {MAX_INT}"


def day_problem(value: date) -> str | None:
    """Why `value` is outside the days the tracker records (None when it is inside)."""
    if EARLIEST_DAY <= value <= LATEST_DAY:
        return None
    return f"must be a date from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}"


def parse_day(text: str) -> date | None:
    """`YYYY-MM-DD` as a date, or None: no other spelling (no timestamps, no `0`)."""
    if not DAY_PATTERN.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


DAY_EXPECTED = f"a date as YYYY-MM-DD, from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}"


# More digits than any bound here needs: Python refuses to convert thousands of them (ValueError).
_MAX_DIGITS = 20


def parse_whole(text: str) -> int | None:
    """`text` as a whole number written in ASCII digits only, or None: no sign or space, no other
    script's digits (`str.isdigit` accepts `²`, which `int` refuses), not thousands of digits."""
    significant = text.lstrip("0")
    if text.isascii() and text.isdigit() and len(significant) <= _MAX_DIGITS:
        # Python counts leading zeros towards its limit of digits a conversion reads.
        return int(significant or "0")
    return None


def page_problem(text: str) -> str | None:
    """Why `text` is not a page number (None when it is one)."""
    number = parse_whole(text)
    if number is not None and 1 <= number <= MAX_PAGE:
        return None
    return f"page must be a whole number from 1 to {MAX_PAGE}"


class TooDeep(ValueError):
    """A JSON document nested deeper than its limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the JSON is nested deeper than {limit} levels")
        self.limit = limit


class _NumberTooLong(ValueError):
    """A JSON number with more digits than Python converts (sys.get_int_max_str_digits)."""


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _NumberTooLong(f"a number has {len(text)} digits, more than can be read") from None


def loads_json(raw: str | bytes, *, max_depth: int = MAX_BODY_DEPTH, **options: Any) -> Any:
    """json.loads, refusing documents nested deeper than `max_depth` (TooDeep) before anything recurses
    over them; other errors, a number of thousands of digits too, are json.JSONDecodeError as usual."""
    try:
        document = json.loads(raw, parse_int=_whole_number, **options)
    except RecursionError:
        raise TooDeep(max_depth) from None
    except _NumberTooLong as exc:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        raise json.JSONDecodeError(str(exc), text, 0) from None
    if depth(document) > max_depth:
        raise TooDeep(max_depth)
    return document


def depth(document: Any) -> int:
    """How deeply `document` nests arrays and objects (a scalar is 0), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        node, level = pending.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        level += 1
        deepest = max(deepest, level)
        pending.extend((child, level) for child in node if isinstance(child, (dict, list)))
    return deepest
