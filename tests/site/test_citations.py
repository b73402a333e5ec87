"""Citations: parsing, numbering, rendering (the essay's own references are checked in
essay/test_essay_sources.py; an unknown key failing the build, in site/test_build_errors.py)."""

from __future__ import annotations

import re
from pathlib import Path

from symbiote_core.figures.site.citations import (
    Bibliography,
    CitationIndex,
    CitationRenderer,
    bibliography_markdown,
    find_citations,
)

TWO = """
@misc{alpha2020,
  author = {Smith, Ann and Jones, Bo and Li, Cy},
  title = {Alpha},
  year = {2020},
  eprint = {2001.00001},
  archiveprefix = {arXiv},
}

@article{beta2021,
  author = {Doe, Jan},
  title = {Beta},
  journal = {J},
  year = {2021},
  doi = {10.1000/beta},
}
"""


def _bib(tmp_path: Path, text: str = TWO) -> Bibliography:
    path = tmp_path / "refs.bib"
    path.write_text(text)
    return Bibliography(path, display="essay/refs.bib")


def test_find_citations_groups_and_skips_code() -> None:
    text = "A [@a]; B [@b; @c2.x].\n`[@code]`\n```\n[@fenced]\n```\nmail me@x [not @cite]\n"
    found = find_citations(text)
    assert [c.keys for c in found] == [("a",), ("b", "c2.x")]
    assert [c.line for c in found] == [1, 1]


def test_numbers_follow_first_citation_in_reading_order(tmp_path: Path) -> None:
    bib = _bib(tmp_path)
    index = CitationIndex.scan(
        bib, [("one.md", "One", "[@beta2021]"), ("two.md", "Two", "[@alpha2020; @beta2021]")]
    )
    assert index.numbers == {"beta2021": 1, "alpha2020": 2}
    assert [src for src, _, _ in index.cited_on["beta2021"]] == ["one.md", "two.md"]
    html = CitationRenderer("two.md", index, "../bibliography/").render(
        "See [@alpha2020; @beta2021]."
    )
    # Sorted by number, each a link to its entry, with a preview holding the formatted entry.
    assert re.findall(r'href="../bibliography/#ref-(\w+)"', html) == ["beta2021", "alpha2020"]
    assert ">1</a>, <a" in html and 'role="tooltip"' in html
    assert "https://doi.org/10.1000/beta" in html and "https://arxiv.org/abs/2001.00001" in html
    page = bibliography_markdown(index, lambda src: src.replace(".md", "/"))
    assert page.index('id="ref-beta2021"') < page.index('id="ref-alpha2020"')
    assert 'href="two/#cite-alpha2020-1"' in page


def test_short_labels(tmp_path: Path) -> None:
    bib = _bib(tmp_path)
    assert bib.short("alpha2020") == "Smith et al., 2020"
    assert bib.short("beta2021") == "Doe, 2021"


def test_unknown_key_is_a_problem_naming_page_and_line(tmp_path: Path) -> None:
    bib = _bib(tmp_path)
    index = CitationIndex.scan(bib, [])
    renderer = CitationRenderer("essay/x.md", index, "b/")
    out = renderer.render("line one\nsee [@alpha2020; @nope]\n")
    assert [str(p).split(": ")[0] for p in renderer.problems] == ["essay/x.md:2"]
    assert "'nope'" in str(renderer.problems[0]) and "sym-error" in out


def test_entry_without_link_is_a_problem_naming_file_and_line(tmp_path: Path) -> None:
    bib = _bib(tmp_path, TWO + "\n@misc{gamma,\n  title = {No link},\n  year = {2000},\n}\n")
    assert [str(p) for p in bib.problems] == [
        "essay/refs.bib:18: reference 'gamma' has no doi, arXiv eprint or url: "
        "every reference must link to its source"
    ]
