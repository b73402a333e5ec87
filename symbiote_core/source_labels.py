"""Exact per-byte labels of Python source, from the standard library's `tokenize`.

A byte-level language model reads source one byte at a time; these labels say, for
every byte, what Python's own tokenizer knows at that point, so that symbiotes grown
on the model can be graded against the truth instead of against a guess.

Two kinds of label, on purpose:

- *State after the byte* (what the next byte is read in): `string` (inside an open
  string literal), `comment` (inside a comment), `depth` (brackets open). The opening
  quote of a string is inside it, its closing quote is not, since after it the string
  is closed; an opening bracket already counts, a closing one no longer does.
- *The byte's own token*: `kind` (name, keyword, number, operator, string, comment,
  whitespace, newline), `position` (bytes since the start of its token or whitespace
  run), `indent` (the tokenizer's indentation level of the line it is on).

`name_end`, `name_start` and `name_prev` describe identifiers: at the last byte of a
NAME token that is not a keyword, where the token starts and where the same name
started last before it in the file (-1 if never). Whether a name "was seen earlier in
the context" depends on where a model's window starts: `seen_in_window` decides it.

Version independence. From Python 3.12 the tokenizer splits an f-string into
FSTRING_START, its parts and the tokens of its replacement fields; up to 3.11 it is
one STRING token. Both are labelled as one string literal here, so the labels of a
file do not depend on the running Python. tests/test_source_labels.py checks them on
hand-written snippets (escapes, f-strings, brackets across lines, comments, decorators).

Pitfall: `tokenize` reports columns in characters; every offset here is in bytes of
the UTF-8 source (a non-ASCII character spans several bytes, all labelled alike).
"""

from __future__ import annotations

import io
import itertools
import keyword
import tokenize
from typing import NamedTuple

import numpy as np

KINDS = ("name", "keyword", "number", "operator", "string", "comment", "whitespace", "newline")
"""Token kinds of `ByteLabels.kind`, by index. Bytes between tokens are whitespace
(spaces, indentation, a line-continuation backslash) or newline."""
WHITESPACE, NEWLINE = KINDS.index("whitespace"), KINDS.index("newline")
OPENERS, CLOSERS = b"([{", b")]}"

_FSTRING_STARTS = {
    getattr(tokenize, name)
    for name in ("FSTRING_START", "TSTRING_START")
    if hasattr(tokenize, name)
}
_FSTRING_ENDS = {
    getattr(tokenize, name) for name in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, name)
}
_KIND_OF = {
    tokenize.NUMBER: "number",
    tokenize.OP: "operator",
    tokenize.STRING: "string",
    tokenize.COMMENT: "comment",
    tokenize.NEWLINE: "newline",
    tokenize.NL: "newline",
    tokenize.INDENT: "whitespace",
}


class ByteLabels(NamedTuple):
    """Labels of every byte of one source file, each an array of `len(source)`."""

    string: np.ndarray
    """bool: inside an open string literal after this byte (quotes: see module docstring)."""
    comment: np.ndarray
    """bool: inside a comment after this byte (from `#` to the last byte before the newline)."""
    depth: np.ndarray
    """int: brackets ( [ { open after this byte."""
    indent: np.ndarray
    """int: the tokenizer's indentation level (INDENTs minus DEDENTs) of this byte's line."""
    kind: np.ndarray
    """int: index into `KINDS` of the token this byte belongs to."""
    position: np.ndarray
    """int: bytes since the start of this byte's token (or whitespace run): 0 at its first."""
    name_end: np.ndarray
    """bool: the last byte of an identifier (a NAME token that is not a keyword)."""
    name_start: np.ndarray
    """int: at `name_end` bytes, where that identifier starts; -1 elsewhere."""
    name_prev: np.ndarray
    """int: at `name_end` bytes, where the same identifier last started before in the
    file; -1 if it did not occur before (or elsewhere)."""


class _Token(NamedTuple):
    type: int
    string: str
    start: int
    end: int


def label_source(source: bytes, name: str = "<source>") -> ByteLabels:
    """Label every byte of `source` (UTF-8 Python); `name` appears in error messages.

    Raises `ValueError` naming the file when it does not tokenize or parse.
    """
    import ast

    try:
        ast.parse(source, filename=name)
        raw = list(tokenize.tokenize(io.BytesIO(source).readline))
    except (SyntaxError, tokenize.TokenError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name}: not valid Python source ({exc})") from None
    tokens = _merge_fstrings(_absolute(raw, source), raw)
    n = len(source)
    string = np.zeros(n, dtype=bool)
    comment = np.zeros(n, dtype=bool)
    delta = np.zeros(n, dtype=np.int64)
    indent = np.zeros(n, dtype=np.int64)
    kind = np.full(n, WHITESPACE, dtype=np.int64)
    position = np.zeros(n, dtype=np.int64)
    name_end = np.zeros(n, dtype=bool)
    name_start = np.full(n, -1, dtype=np.int64)
    name_prev = np.full(n, -1, dtype=np.int64)
    last_seen: dict[str, int] = {}
    level, previous_end = 0, 0
    for tok in tokens:
        if tok.type == tokenize.INDENT:
            level += 1
        elif tok.type == tokenize.DEDENT:
            level -= 1
        if tok.end <= tok.start and tok.type != tokenize.INDENT:
            continue  # DEDENT, ENDMARKER, ENCODING, an empty NEWLINE at the end of a file
        # The gap before this token (leading whitespace of its line, spaces) is its line's.
        indent[previous_end : tok.end] = level
        _runs(position, previous_end, tok.start)
        position[tok.start : tok.end] = np.arange(tok.end - tok.start)
        previous_end = max(previous_end, tok.end)
        if tok.type == tokenize.ERRORTOKEN:
            if tok.string.strip():
                raise ValueError(f"{name}: the tokenizer could not read {tok.string!r}")
            continue
        if tok.type == tokenize.NAME:
            is_keyword = keyword.iskeyword(tok.string)
            kind[tok.start : tok.end] = KINDS.index("keyword" if is_keyword else "name")
            if not is_keyword:
                last = tok.end - 1
                name_end[last] = True
                name_start[last] = tok.start
                name_prev[last] = last_seen.get(tok.string, -1)
                last_seen[tok.string] = tok.start
            continue
        kind[tok.start : tok.end] = KINDS.index(_KIND_OF[tok.type])
        if tok.type == tokenize.STRING:
            quote = tok.start + _prefix_length(source[tok.start : tok.end])
            string[quote : tok.end - 1] = True
        elif tok.type == tokenize.COMMENT:
            comment[tok.start : tok.end] = True
        elif tok.type == tokenize.OP and tok.end - tok.start == 1:
            byte = source[tok.start]
            delta[tok.start] = (byte in OPENERS) - (byte in CLOSERS)
    _runs(position, previous_end, n)
    indent[previous_end:] = level
    # Gap bytes that are line breaks (after a backslash continuation) are newlines.
    gaps = kind == WHITESPACE
    kind[gaps & (np.frombuffer(source, dtype=np.uint8) == ord("\n"))] = NEWLINE
    return ByteLabels(
        string, comment, np.cumsum(delta), indent, kind, position, name_end, name_start, name_prev
    )


def seen_in_window(labels: ByteLabels, window_start: int) -> tuple[np.ndarray, np.ndarray]:
    """For a model window that starts at byte `window_start` of the file: which bytes
    are the end of an identifier whose start lies in the window (`mask`), and of those,
    which repeat an identifier that started earlier in the same window (`seen`).

    Both are bool arrays over the whole file; bytes before the window are False.
    """
    start = labels.name_start
    mask = labels.name_end & (start >= window_start)
    seen = mask & (labels.name_prev >= window_start)
    return mask, seen


def _absolute(raw: list[tokenize.TokenInfo], source: bytes) -> list[_Token]:
    """Tokens with byte offsets into `source` instead of (row, character column)."""
    line_starts = [0]
    for i, byte in enumerate(source):
        if byte == 0x0A:
            line_starts.append(i + 1)
    line_starts.append(len(source))
    lines = [source[a:b] for a, b in itertools.pairwise(line_starts)]

    def offset(row: int, col: int) -> int:
        if row - 1 >= len(lines):
            return len(source)
        line = lines[row - 1]
        if line.isascii():
            return line_starts[row - 1] + col
        return line_starts[row - 1] + len(line.decode("utf-8")[:col].encode("utf-8"))

    return [_Token(t.type, t.string, offset(*t.start), offset(*t.end)) for t in raw]


def _merge_fstrings(tokens: list[_Token], raw: list[tokenize.TokenInfo]) -> list[_Token]:
    """One STRING token per f-string (3.12+ tokenizes inside them; 3.11 does not)."""
    if not _FSTRING_STARTS:
        return tokens
    out: list[_Token] = []
    open_at, nesting = 0, 0
    for tok in tokens:
        if tok.type in _FSTRING_STARTS:
            if nesting == 0:
                open_at = tok.start
            nesting += 1
        elif tok.type in _FSTRING_ENDS:
            nesting -= 1
            if nesting == 0:
                out.append(_Token(tokenize.STRING, "", open_at, tok.end))
        elif nesting == 0:
            out.append(tok)
    return out


def _prefix_length(literal: bytes) -> int:
    """Bytes of a string literal's prefix (r, b, f, u in any case) before its quote."""
    for i, byte in enumerate(literal):
        if byte in b"'\"":
            return i
    raise ValueError(f"a string token without a quote: {literal[:40]!r}")


def _runs(position: np.ndarray, start: int, end: int) -> None:
    """Positions within a gap between tokens: counted from its start."""
    if end > start:
        position[start:end] = np.arange(end - start)
