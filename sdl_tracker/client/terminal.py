"""Text for a person's terminal: control characters in it are shown escaped, never obeyed.

Stored text (a vendor, an evidence title, a commit subject, a server's answer) is written by others;
printed raw, an escape sequence could retitle or clear the operator's terminal, a carriage return or
a newline could overwrite a line or forge one, and a bidi control could reorder what is read. Every
command prints through `say` here or `sdl_tracker.commands.say` (which calls `escape_controls`); the
client keeps this module to the standard library, so the server's commands import it from here.
"""

from __future__ import annotations

import json
import re
import sys

TYPE_CHECKING = False  # typing costs a git hook milliseconds at start-up; mypy reads this name as typing's
if TYPE_CHECKING:
    from typing import Any

# C0 controls, DEL and C1 controls; the line and paragraph separators; Unicode's Bidi_Control
# characters (ALM, LRM, RLM, the embeddings and overrides, the isolates); lone surrogates, which
# cannot be encoded for the terminal at all.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape_controls(text: str) -> str:
    """`text` with every control character written as an escape (ESC as `\\x1b`, CR as `\\r`,
    U+202E as `\\u202e`); everything else, backslashes included, as it is."""
    return _CONTROL.sub(_escape, text)


def counted(number: int, noun: str) -> str:
    """`1 commit`, `2 commits`: a count with its noun (nouns that take an s)."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def say(line: str, *, err: bool = False) -> None:
    """Print one line for a person, its control characters escaped (a newline in it cannot start another)."""
    print(escape_controls(line), file=sys.stderr if err else sys.stdout)


def say_json(data: Any) -> None:
    """Print `data` as one line of JSON: ASCII only, so every control character is a `\\u` escape."""
    print(json.dumps(data, ensure_ascii=True))
