"""The input boundary's rules, and that every form and every command-line argument goes through them."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterator
from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st
from wtforms import Form

import sdl_tracker
from sdl_tracker.boundary import TooDeep, depth, loads_json, parse_whole, text_problem
from sdl_tracker.cli import cli
from sdl_tracker.web.forms import BoundedForm, TrackerForm

NESTED = "[" * 100_000 + "]" * 100_000


def test_every_form_is_bounded() -> None:
    for module in pkgutil.walk_packages(sdl_tracker.__path__, "sdl_tracker."):
        importlib.import_module(module.name)
    forms = [
        form
        for base in (Form, *Form.__subclasses__())
        for form in _subclasses(base)
        if form.__module__.startswith("sdl_tracker.") and form not in (TrackerForm, BoundedForm)
    ]
    assert len(forms) >= 20
    assert [f.__qualname__ for f in forms if not issubclass(f, (TrackerForm, BoundedForm))] == []


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_command_line_text_and_integer_is_bounded() -> None:
    unbounded = []

    def walk(command: click.Command, path: str) -> None:
        for param in command.params:
            if param.type in (click.STRING, click.INT) or isinstance(param.type, click.DateTime):
                unbounded.append(f"{path} {param.name}")
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    walk(cli, "sdl-tracker")
    assert unbounded == []


# --- the rules ---------------------------------------------------------------------------------------


@given(st.recursive(st.none() | st.integers(), lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids)))
def test_depth_matches_a_recursive_count(document: Any) -> None:
    def count(node: Any) -> int:
        if isinstance(node, dict):
            return 1 + max(map(count, node.values()), default=0)
        if isinstance(node, list):
            return 1 + max(map(count, node), default=0)
        return 0

    assert depth(document) == count(document)


def test_loads_json_refuses_a_number_python_will_not_convert_as_not_json() -> None:
    with pytest.raises(json.JSONDecodeError, match="digits"):
        loads_json('{"a": ' + "9" * 5000 + "}")
    assert loads_json("9" * 4000) == int("9" * 4000)


@pytest.mark.parametrize("text", ["1", "1000000", "0000001", "0", "000"])
def test_whole_numbers_in_ascii_digits_are_read(text: str) -> None:
    assert parse_whole(text) == int(text)


def test_leading_zeros_beyond_pythons_digit_limit_are_read_not_a_crash() -> None:
    assert parse_whole("0" * 5000 + "7") == 7


@pytest.mark.parametrize("text", ["", "-1", "+1", " 1", "1.0", "\u00b2", "\u0663", "9" * 5000])
def test_anything_else_is_no_whole_number(text: str) -> None:
    assert parse_whole(text) is None


def test_loads_json_refuses_beyond_the_limit_and_reads_up_to_it() -> None:
    assert loads_json("[" * 32 + "]" * 32) == eval("[" * 32 + "]" * 32)  # noqa: S307 - a literal we built
    with pytest.raises(TooDeep):
        loads_json("[" * 33 + "]" * 33)
    with pytest.raises(TooDeep):
        loads_json(NESTED, max_depth=10_000)  # beyond the parser's own recursion limit


@given(
    st.text(st.characters(codec=None, exclude_categories=()))  # lone surrogates included
    | st.text(alphabet="ab\t\n\u200e\u202a\u202e\u2066\u2069\u2028")  # the bidirectional controls, often
)
def test_text_rules(text: str) -> None:
    controls = {
        c
        for c in text
        if ord(c) < 0x20
        or 0x7F <= ord(c) <= 0x9F
        or c in "\u2028\u2029"
        or 0x202A <= ord(c) <= 0x202E
        or 0x2066 <= ord(c) <= 0x2069
        or 0xD800 <= ord(c) <= 0xDFFF
    }
    assert (text_problem(text) is None) == (not controls)
    assert (text_problem(text, multi_line=True) is None) == (not controls - {"\t", "\n", "\r"})
