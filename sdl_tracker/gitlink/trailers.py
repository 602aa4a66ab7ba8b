"""Commit trailers and subjects read from a commit message exactly as git reads them.

A commit's trailers are what `git interpret-trailers --parse --no-divider` prints for its message,
and what `git log --format=%(trailers:only,unfold)` lists: the scanner asks git, the commit intake reads
the object it was sent, and both must find the same trailers. This follows git's trailer.c and
commit.c (`find_trailer_start`, `ignore_non_trailer`, `find_separator`, `unfold_value`) line by line,
with git's defaults: `:` the only separator, `#` the comment character, no `trailer.<key>` settings.
git works on bytes and these rules look at ASCII only, so decoded text (invalid bytes as U+FFFD) gives
the same result.
"""

from __future__ import annotations

# git's isspace(): tab, line feed, carriage return and space (not vertical tab or form feed).
GIT_SPACE = " \t\n\r"
SEPARATORS = ":"
COMMENT = "#"
# Lines git writes itself: one of them makes a block with some prose in it a trailer block.
GENERATED_PREFIXES = ("Signed-off-by: ", "(cherry picked from commit ")
CUT_LINE = f"{COMMENT} ------------------------ >8 ------------------------\n"
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _space(char: str) -> bool:
    return char != "" and char in GIT_SPACE


def _next_line(text: str, pos: int) -> int:
    """Where the line after the one at `pos` begins (the end of the text for the last line)."""
    end = text.find("\n", pos)
    return len(text) if end < 0 else end + 1


def _lines(text: str) -> list[str]:
    """The lines of `text`, each with its newline (git splits at line feeds only)."""
    lines = []
    pos = 0
    while pos < len(text):
        following = _next_line(text, pos)
        lines.append(text[pos:following])
        pos = following
    return lines


def _last_line(text: str, length: int) -> int:
    """Where the last line of text[:length] begins, a newline at its end counting as part of it; -1 if empty."""
    if length <= 1:
        return length - 1
    return text.rfind("\n", 0, length - 1) + 1


def _blank(text: str, pos: int) -> bool:
    """Whether the line at `pos` holds nothing but git's whitespace."""
    while pos < len(text) and text[pos] != "\n" and text[pos] in GIT_SPACE:
        pos += 1
    return pos >= len(text) or text[pos] == "\n"


def find_separator(text: str, pos: int = 0) -> int:
    """The offset of the separator of a `Key: value` line from `pos`, or -1: the key is ASCII letters, digits
    and `-`, optionally followed by spaces or tabs (`Key : value`)."""
    spaced = False
    at = pos
    while at < len(text):
        char = text[at]
        if char in SEPARATORS:
            return at - pos
        if not spaced and (char in _ALNUM or char == "-"):
            at += 1
            continue
        if at != pos and char in " \t":
            spaced = True
            at += 1
            continue
        break
    return -1


def _cut_at_scissors(text: str, length: int) -> int:
    """The end of the message before a `# ---- >8 ----` line (what `git commit --verbose` adds), if any."""
    if text.startswith(CUT_LINE):
        return 0
    found = text.find("\n" + CUT_LINE)
    return min(found + 1, length) if found >= 0 else length


def _ignored_tail(text: str, length: int) -> int:
    """How many characters at the end are comments, blank lines or an old `Conflicts:` block (git's
    `ignore_non_trailer`, including its reading of a run that starts on the very first line)."""
    run = 0  # where the trailing run began; 0 means none, as in git
    bol = 0
    conflicts = False
    cutoff = _cut_at_scissors(text, length)
    while bol < cutoff:
        newline = text.find("\n", bol, length)
        following = length if newline < 0 else newline + 1
        if text.startswith(COMMENT, bol) or text[bol] == "\n":
            run = run or bol
        elif text.startswith("Conflicts:\n", bol):
            conflicts = True
            run = run or bol
        elif conflicts and text[bol] == "\t":
            pass  # a path in the conflicts block
        elif run:
            run = 0
            conflicts = False
        bol = following
    return length - run if run else length - cutoff


def _patch_start(text: str) -> int:
    """Where a `---` line (a patch below the message) begins, else the end: what `--no-divider` turns off."""
    pos = 0
    while pos < len(text):
        if text.startswith("---", pos) and _space(text[pos + 3 : pos + 4]):
            return pos
        pos = _next_line(text, pos)
    return len(text)


def _block_start(text: str, length: int) -> int:
    """Where the trailer block of text[:length] begins, or `length` when there is none (git's
    `find_trailer_start`): the last paragraph, after the title, if all its lines are trailers, or if one is
    a line git generates and at least a quarter are trailers."""
    pos = 0
    while pos < length:  # the first paragraph is the title, never trailers
        if text.startswith(COMMENT, pos):
            pos = _next_line(text, pos)
            continue
        if _blank(text, pos):
            break
        pos = _next_line(text, pos)
    end_of_title = pos
    only_spaces, recognized = True, False
    trailer_lines = non_trailer_lines = possible_continuations = 0
    line = _last_line(text, length)
    while line >= end_of_title:
        if text.startswith(COMMENT, line):
            non_trailer_lines += possible_continuations
            possible_continuations = 0
        elif _blank(text, line):
            if not only_spaces:
                non_trailer_lines += possible_continuations
                if recognized and trailer_lines * 3 >= non_trailer_lines:
                    return _next_line(text, line)
                if trailer_lines and not non_trailer_lines:
                    return _next_line(text, line)
                return length
        else:
            only_spaces = False
            first = text[line : line + 1]
            if any(text.startswith(prefix, line) for prefix in GENERATED_PREFIXES):
                trailer_lines += 1
                possible_continuations = 0
                recognized = True
            elif find_separator(text, line) >= 1 and not _space(first):
                trailer_lines += 1
                possible_continuations = 0
            elif _space(first):
                possible_continuations += 1
            else:
                non_trailer_lines += 1 + possible_continuations
                possible_continuations = 0
        line = _last_line(text, line)
    return length


def _unfold(value: str) -> str:
    """A value's continuation lines joined with one space each."""
    out: list[str] = []
    at = 0
    while at < len(value):
        char = value[at]
        at += 1
        if char == "\n":
            while at < len(value) and value[at] in GIT_SPACE:
                at += 1
            out.append(" ")
        else:
            out.append(char)
    return "".join(out).strip(GIT_SPACE)


def parse_trailers(message: str, *, divider: bool = False) -> list[tuple[str, str]]:
    """The message's trailers as (key, value), in order, values unfolded; `divider` ends the message at a
    `---` line as `git interpret-trailers` does without `--no-divider` (a commit's own reading does not)."""
    length = _patch_start(message) if divider else len(message)
    end = length - _ignored_tail(message, length)
    start = _block_start(message, end)
    strings: list[str] = []
    last: int | None = None  # the trailer that indented lines continue
    for piece in _lines(message[start:end]):
        if last is not None and _space(piece[:1]):
            strings[last] += piece
            continue
        strings.append(piece)
        last = len(strings) - 1 if find_separator(piece) >= 1 else None
    found = []
    for string in strings:
        separator = find_separator(string)
        if string.startswith(COMMENT) or separator < 1:
            continue  # prose or a comment inside the block: not a trailer
        key = string[:separator].strip(GIT_SPACE)
        found.append((key, _unfold(string[separator + 1 :].strip(GIT_SPACE))))
    return found


def skip_blank_lines(message: str) -> str:
    """The message from its first line that is not blank (where git's subject starts)."""
    pos = 0
    while pos < len(message):
        following = _next_line(message, pos)
        if message[pos:following].strip(GIT_SPACE):
            break
        pos = following
    return message[pos:]


def subject_of(message: str) -> str:
    """The subject as `git log --format=%s` gives it: the first paragraph's lines, each stripped at its end,
    joined with one space."""
    lines: list[str] = []
    pos = 0
    text = skip_blank_lines(message)
    while pos < len(text):
        following = _next_line(text, pos)
        line = text[pos:following].rstrip(GIT_SPACE)
        if not line:
            break
        lines.append(line)
        pos = following
    return " ".join(lines)


def commit_trailers(message: str) -> list[tuple[str, str]]:
    """A commit's trailers as git reads them from its message (leading blank lines skipped, no divider)."""
    return parse_trailers(skip_blank_lines(message))
