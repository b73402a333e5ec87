"""Per-byte labels of Python source (`symbiote_core.source_labels`), checked by hand.

Each snippet is small enough that every expected label was written out by reading it;
the helper `at` finds a byte by the text around it so the tests read like the source.
"""

from __future__ import annotations

import numpy as np
import pytest

from symbiote_core.source_labels import KINDS, label_source, seen_in_window


def at(source: bytes, marker: bytes, offset: int = 0, nth: int = 0) -> int:
    """Index of byte `offset` into the `nth` occurrence of `marker` in `source`."""
    index = -1
    for _ in range(nth + 1):
        index = source.index(marker, index + 1)
    return index + offset


def kind(labels, i: int) -> str:
    return KINDS[labels.kind[i]]


def test_string_with_escapes_and_quotes() -> None:
    src = b'x = "a\\"b" + \'c\'\n'
    lab = label_source(src)
    open_quote, escaped, close_quote = at(src, b'"'), at(src, b'\\"', 1), at(src, b'" +')
    # Inside from the opening quote to the byte before the closing one.
    assert lab.string[open_quote] and lab.string[escaped] and lab.string[close_quote - 1]
    assert not lab.string[close_quote]  # after the closing quote the string is closed
    assert not lab.string[at(src, b"x")] and not lab.string[at(src, b"+")]
    assert all(kind(lab, i) == "string" for i in range(open_quote, close_quote + 1))
    assert lab.string[at(src, b"'c")] and not lab.string[at(src, b"c'", 1)]
    # Position counts bytes from the start of the token.
    assert lab.position[open_quote] == 0 and lab.position[close_quote] == 5


def test_triple_quoted_string_across_lines_keeps_depth_and_indent() -> None:
    src = b'def f():\n    """Doc (with a bracket\n    and a # hash)."""\n    return 1\n'
    lab = label_source(src)
    doc = at(src, b'"""')
    inner = at(src, b"(with")
    hash_in_doc = at(src, b"# hash")
    end = at(src, b'"""', 2, nth=1)  # the last byte of the closing quotes
    assert lab.string[doc] and lab.string[inner] and lab.string[end - 1] and not lab.string[end]
    assert lab.depth[inner] == 0  # a bracket inside a string opens nothing
    assert not lab.comment[hash_in_doc]  # nor does a hash start a comment
    assert kind(lab, at(src, b"\n    and")) == "string"  # the newline inside is string
    assert lab.indent[at(src, b"return")] == 1
    assert lab.indent[at(src, b"def")] == 0


def test_fstring_is_one_string_literal() -> None:
    # Labelled alike on every Python: 3.12+ tokenizes inside f-strings, 3.11 does not.
    src = b'name = f"a{x[0] + (y)}b{z!r:>4}"\nw = 1\n'
    lab = label_source(src)
    start, close = at(src, b'f"'), at(src, b'"\n')
    assert kind(lab, start) == "string" and not lab.string[start]  # the prefix letter
    assert all(lab.string[i] for i in range(start + 1, close))
    assert all(kind(lab, i) == "string" for i in range(start, close + 1))
    assert not lab.string[close]
    # Brackets inside the replacement fields are part of the literal.
    assert (lab.depth[start : close + 1] == 0).all()
    assert lab.position[close] == close - start
    assert lab.name_end.sum() == 2  # `name` and `w`: nothing inside the f-string
    assert kind(lab, at(src, b"w =")) == "name"


def test_nested_brackets_across_lines() -> None:
    src = b"value = call(\n    [1, {2: (3,\n          4)}],\n)\n"
    lab = label_source(src)
    assert lab.depth[at(src, b"value")] == 0
    assert lab.depth[at(src, b"(\n")] == 1  # an opening bracket already counts
    assert lab.depth[at(src, b"[1")] == 2
    assert lab.depth[at(src, b"{2")] == 3
    assert lab.depth[at(src, b"(3")] == 4
    assert lab.depth[at(src, b"4)")] == 4
    assert lab.depth[at(src, b"4)", 1)] == 3  # a closing one no longer does
    assert lab.depth[at(src, b"}]")] == 2
    assert lab.depth[at(src, b"],")] == 1
    assert lab.depth[at(src, b")\n")] == 0
    # Newlines inside brackets are newlines; the continuation lines keep indent 0.
    assert kind(lab, at(src, b"(\n", 1)) == "newline"
    assert (lab.indent == 0).all()
    assert kind(lab, at(src, b"          4")) == "whitespace"
    assert lab.position[at(src, b"          4", 9)] == 9


def test_comments() -> None:
    src = b"x = 1  # set x (to one)\n# whole line\ny = '#'\n"
    lab = label_source(src)
    first = at(src, b"# set")
    assert lab.comment[first] and lab.comment[at(src, b"one)", 3)]
    assert not lab.comment[at(src, b")\n", 1)]  # the newline ends it
    assert not lab.comment[first - 1]
    assert lab.depth[at(src, b"(to")] == 0  # brackets in a comment open nothing
    assert kind(lab, first) == "comment" and lab.position[first] == 0
    assert lab.comment[at(src, b"# whole")]
    assert not lab.comment[at(src, b"'#'", 1)]  # a hash in a string is no comment
    assert kind(lab, at(src, b"  #")) == "whitespace"


def test_decorators_keywords_numbers_and_indentation() -> None:
    src = (
        b"@property\n"
        b"@cache(size=128)\n"
        b"def area(self):\n"
        b"    if self.w:\n"
        b"        return self.w * 2.5\n"
        b"    return None\n"
    )
    lab = label_source(src)
    assert kind(lab, 0) == "operator" and kind(lab, 1) == "name"
    assert lab.depth[at(src, b"size")] == 1 and lab.depth[at(src, b")\n")] == 0
    assert kind(lab, at(src, b"128")) == "number" and lab.position[at(src, b"128", 2)] == 2
    assert kind(lab, at(src, b"def")) == "keyword"
    assert kind(lab, at(src, b"if")) == "keyword"
    assert kind(lab, at(src, b"None")) == "keyword"
    assert kind(lab, at(src, b"2.5")) == "number"
    assert lab.indent[at(src, b"def")] == 0
    assert lab.indent[at(src, b"if")] == 1
    assert lab.indent[at(src, b"return self")] == 2
    assert lab.indent[at(src, b"    return None")] == 1  # the dedented line's own indent
    assert lab.indent[at(src, b"        return", 3)] == 2  # leading spaces are the line's
    assert kind(lab, at(src, b":\n", 1)) == "newline"


def test_identifiers_seen_before() -> None:
    src = b"alpha = 1\nbeta = alpha + alpha_2\nalpha = beta\n"
    lab = label_source(src)
    ends = np.flatnonzero(lab.name_end)
    names = [src[lab.name_start[i] : i + 1] for i in ends]
    assert names == [b"alpha", b"beta", b"alpha", b"alpha_2", b"alpha", b"beta"]
    prev = [int(lab.name_prev[i]) for i in ends]
    first_alpha, first_beta, second_alpha = 0, at(src, b"beta"), at(src, b"alpha +")
    assert prev == [-1, -1, first_alpha, -1, second_alpha, first_beta]
    # Seen in a window only when the earlier occurrence starts inside the window.
    mask, seen = seen_in_window(lab, window_start=0)
    assert mask[ends].all() and seen[ends].tolist() == [False, False, True, False, True, True]
    mask, seen = seen_in_window(lab, window_start=first_beta)
    assert mask[ends].tolist() == [False, True, True, True, True, True]
    assert seen[ends].tolist() == [False, False, False, False, True, True]


def test_non_ascii_bytes_are_labelled_by_their_character() -> None:
    src = "s = 'é' # ü\nt = 2\n".encode()
    lab = label_source(src)
    e = src.index("é".encode())
    assert lab.string[e] and lab.string[e + 1]
    assert kind(lab, e) == kind(lab, e + 1) == "string"
    assert lab.comment[src.index("ü".encode()) + 1]
    t = src.index(b"t =")
    assert kind(lab, t) == "name" and lab.position[t] == 0


def test_invalid_source_is_named() -> None:
    with pytest.raises(ValueError, match=r"broken\.py"):
        label_source(b"def f(:\n", "broken.py")
