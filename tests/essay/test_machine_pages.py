"""The essay for programs (`site/machine.py`): llms.txt, each page as Markdown with its
numbers filled in, and claims.json, checked against the built site."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from symbiote_core.figures.site.markup import claim_anchor


def test_llms_txt_lists_every_essay_page_as_markdown_with_no_directive_left(
    built_site: Path,
) -> None:
    text = (built_site / "llms.txt").read_text()
    assert text.startswith("# Symbiotic Networks\n\n> ")
    links = re.findall(r"\]\(([^)]*index\.md)\)", text)
    assert "algorithm/index.md" in links and "index.md" in links
    for link in links:
        markdown = (built_site / link).read_text()
        assert (built_site / link).with_name("index.html").is_file(), link
        prose = re.sub(r"```.*?```|`[^`]*`", "", markdown, flags=re.S)  # code may quote one
        assert "{{" not in prose, f"{link} keeps a directive"
        assert "sym-spec" not in markdown and "<button" not in markdown
    assert not any(link.startswith("notebooks/") for link in links)  # their source is .py


def test_numbers_in_the_markdown_are_the_numbers_on_the_page(built_site: Path) -> None:
    """Every quoted number of the HTML page appears, in order, in its Markdown twin."""
    page = (built_site / "algorithm" / "index.html").read_text()
    markdown = (built_site / "algorithm" / "index.md").read_text()
    numbers = [html.unescape(n) for n in re.findall(r'class="sym-value-number"[^>]*>([^<]*)<', page)]
    assert len(numbers) > 20
    position = 0
    for number in numbers:
        found = markdown.find(number, position)
        assert found >= 0, f"{number!r} is on the page but not in its Markdown (after {position})"
        position = found


def test_claims_json_matches_the_claims_appendix(built_site: Path) -> None:
    ledger = json.loads((built_site / "claims.json").read_text())
    appendix = (built_site / "claims" / "index.html").read_text()
    assert 'href="../claims.json"' in appendix
    assert ledger["format"] == 2 and ledger["claims"]
    for claim in ledger["claims"]:
        assert f'id="{claim_anchor(claim["figure"], claim["claim"])}"' in appendix, claim["claim"]
        assert len(claim["real"]["left"]) == len(claim["seeds"]) or len(claim["real"]["left"]) == 1
        assert claim["verdict"] in appendix and claim["nulls"] and claim["history"]
    figures = {claim["figure"] for claim in ledger["claims"]}
    for figure in figures:  # the ledger's verdicts are the figure entries' verdicts
        meta = json.loads((built_site / "figures" / figure / "meta.json").read_text())
        verdicts = {c["name"]: c["verdict"] for c in meta["claims"]}
        for claim in (c for c in ledger["claims"] if c["figure"] == figure):
            assert verdicts[claim["claim"]] == claim["verdict"]
