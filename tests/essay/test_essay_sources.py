"""The essay's sources, read without building: every reference links to its source and
every citation resolves."""

from __future__ import annotations

from support.project import ROOT

from symbiote_core.figures.site.citations import Bibliography, find_citations

BIB = ROOT / "essay" / "references.bib"


def test_essay_references_all_link_and_every_citation_resolves() -> None:
    bib = Bibliography(BIB, display="essay/references.bib")
    assert bib.problems == []
    cited: set[str] = set()
    for page in sorted((ROOT / "essay").glob("*.md")):
        text = page.read_text()
        assert "[^" not in text, f"{page.name}: footnote citation left; use [@key]"
        for cite in find_citations(text):
            for key in cite.keys:
                assert key in bib.data.entries, f"{page.name}:{cite.line}: unknown key {key}"
                cited.add(key)
    assert cited == set(bib.keys), f"uncited references: {set(bib.keys) - cited}"


