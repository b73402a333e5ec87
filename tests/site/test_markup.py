"""Directives -> HTML, without MkDocs: numbering, values, claims, refs, errors."""

from __future__ import annotations

import pytest

from symbiote_core.figures.authoring.spec import Claim, Null
from symbiote_core.figures.site.claim_history import Change
from symbiote_core.figures.site.markup import (
    FigureView,
    PageRenderer,
    figure_order,
    find_directives,
    format_value,
)

VALUES = {"score": [0.91234, 0.9, 0.93], "count": 512, "chance": [0.1, 0.12, 0.11]}


def _claim(name: str, statement: str, right: str | float) -> dict:
    claim = Claim(name=name, statement=statement, left="score", op=">", right=right,
                  control="chance", why="a test", null=Null(description="chance level",
                                                           values={"score": "chance"}))
    return claim.evaluate(VALUES).to_json()


META = {
    "title": "A figure", "caption": "It *shows* things.", "alt": "alt text", "key": "abc123",
    "git": "deadbee", "seeds": [0, 1, 2], "params": {"seeds": [0, 1, 2]},
    "versions": {"torch": "2.13.0"}, "compute_seconds": 1.5,
    "values": VALUES,
    "value_descriptions": {"score": "the share of points fitted", "count": "the points drawn"},
    "claims": [
        _claim("good", "Score is high.", 0.5),
        _claim("bad", "Score is huge.", "count"),
        _claim("trivial", "Score is positive.", -1.0),
    ],
}


def renderer(**views: FigureView) -> PageRenderer:
    return PageRenderer(page="essay/page.md", figures=views,
                        url_to=lambda target: "../" + target, page_url=lambda src: src[:-3] + "/")


def view(name: str = "fig", **kw) -> FigureView:
    return FigureView(name=name, number=kw.pop("number", 1), page=kw.pop("page", "page.md"),
                      meta=kw.pop("meta", META), spec={"mark": "point"},
                      files={"figure.svg": f"figures/{name}/figure.svg"}, **kw)


def test_directives_in_code_are_left_alone() -> None:
    text = "a {{ value: f.x }}\n```\n{{ value: f.y }}\n```\nb `{{ ref: f }}` {{ ref: g }}\n"
    found = find_directives(text)
    assert [(d.kind, d.target, d.line) for d in found] == [("value", "f.x", 1), ("ref", "g", 5)]
    assert text[found[0].start:found[0].end] == "{{ value: f.x }}"


def test_figures_are_numbered_in_reading_order_across_pages() -> None:
    pages = [("a.md", "{{ ref: later }} {{ figure: first }}"),
             ("b.md", "{{ figure: later }}\n{{ figure: first }}")]
    assert figure_order(pages) == {"first": (1, "a.md"), "later": (2, "b.md")}


@pytest.mark.parametrize(("value", "fmt", "text"), [
    (0.91234, None, "0.912"), (0.91234, ".2f", "0.91"), (0.5, ".0%", "50%"),
    (512, None, "512"), (12345, None, "12,345"),
    ([0.9, 1.0, 1.1], ".2f", "1.00 ± 0.10"), ([0.9, 1.0, 1.1], None, "1 ± 0.1"),
    ([0.9, 1.0, 1.1], ".2f range", "0.90–1.10"), ([0.9, 1.0, 1.1], "range", "0.9–1.1"),
    ([0.9, 1.0, 1.1], ".1f mean", "1.0"), ([0.9, 1.0, 1.1], ".1f min", "0.9"),
    ([0.9, 1.0, 1.1], ".1f max", "1.1"), ([0.9, 1.0, 1.1], ".2f sd", "0.10"),
    ([0.5, 0.25], ".0% seeds", "50%, 25%"), ([3], ".1f", "3.0 ± 0.0"),
    ([6, 6, 6], ".0f range", "6"),
])
def test_format_value(value: float, fmt: str | None, text: str) -> None:
    assert format_value(value, fmt) == text


def test_values_claims_and_refs_render() -> None:
    r = renderer(fig=view())
    out = r.render("S {{ value: fig.score | .2f }}, n={{ value: fig.count }}. "
                   "{{ claim: fig.good }} See {{ ref: fig }}.")
    assert ">0.91 ± 0.02</button>" in out and ">512</button>" in out
    # Each popover says in words what the number is, its seeds, and links to its figure.
    assert ("the share of points fitted, mean of 3 seeds (0.9123, 0.9, 0.93). "
            'From <a href="../page/#fig-fig">Figure 1</a>: A figure.</span>') in out
    assert ('the points drawn, the same on every seed. '
            'From <a href="../page/#fig-fig">Figure 1</a>: A figure.</span>') in out
    assert "fig.score" not in out and "fig.count" not in out  # no internal key
    assert "sym-claim--holds" in out and "Score is high." in out
    assert '<a href="../page/#fig-fig"' in out and "Figure 1</a>" in out
    assert "figures/fig/figure.svg" in out  # the hover preview
    assert r.problems == []


def test_failing_claim_is_marked_on_the_page() -> None:
    out = renderer(fig=view()).render("{{ claim: fig.bad }}")
    assert "sym-claim--fails" in out and "FAILS" in out


def test_claim_that_holds_on_its_null_is_marked_cannot_fail() -> None:
    out = renderer(fig=view()).render("{{ claim: fig.trivial }}")
    assert "sym-claim--cannotfail" in out and "CANNOT FAIL" in out


def test_figure_block_has_spec_caption_and_provenance() -> None:
    out = renderer(fig=view(number=3)).render("before\n\n{{ figure: fig }}\n\nafter")
    assert 'id="fig-fig"' in out and "data-spec=" in out and "&quot;mark&quot;" in out
    assert "<strong>Figure 3.</strong>" in out and "<em>shows</em>" in out
    assert "python -m symbiote_core.figures build fig --force" in out and "deadbee" in out


@pytest.mark.parametrize(("directive", "message"), [
    ("{{ value: fig.nope }}", "unknown value 'nope' of figure 'fig'"),
    ("{{ claim: fig.nope }}", "unknown claim 'nope' of figure 'fig'"),
    ("{{ ref: other }}", "unknown figure 'other'"),
    ("{{ value: fig }}", "needs FIGURE.NAME"),
    ("{{ value: fig.score | .2z }}", "bad format"),
    ("{{ value: fig.count | .2f range }}", "needs a per-seed value"),
    ("{{ value: fig.score | .2f spread }}", "unknown spread 'spread'"),
])
def test_problems_name_file_and_line(directive: str, message: str) -> None:
    r = renderer(fig=view())
    out = r.render(f"line one\nline two {directive}\n")
    assert len(r.problems) == 1
    assert str(r.problems[0]).startswith("essay/page.md:2: ")
    assert message in str(r.problems[0])
    assert 'class="sym-error' in out


def test_failed_figure_shows_its_traceback() -> None:
    broken = FigureView(name="fig", number=1, page="page.md",
                        error="Traceback ...\nZeroDivisionError: division by zero")
    r = renderer(fig=broken)
    out = r.render("{{ figure: fig }}")
    assert 'class="sym-error"' in out and "ZeroDivisionError" in out


def test_claim_is_a_small_mark_linking_to_its_appendix_row() -> None:
    out = renderer(fig=view()).render("{{ claim: fig.good }}")
    assert 'id="claim-fig-good-text"' in out
    # A button whose popover says in words what was checked, linking to its test.
    assert '<button type="button" class="sym-value-number sym-claim-mark"' in out
    assert 'href="../claims/#claim-fig-good"' in out
    assert "sym-claim-badge" not in out and "Checked claim: it holds. The comparison holds on" in out


def test_claims_appendix_groups_by_page_and_links_back() -> None:
    from symbiote_core.figures.site.claims_page import claims_page

    first, second = view("first"), view("second", number=2, page="later.md")
    first.claim_pages = {"good": "later.md", "bad": "intro.md"}
    second.claim_pages = {"good": "intro.md"}
    text = claims_page({"first": first, "second": second},
                       {"intro.md": "Introduction", "later.md": "Later"})
    text = text[text.index("## Each claim, seed by seed"):]  # below the summary table
    intro, later = text.index("## Introduction"), text.index("## Later")
    assert intro < later
    assert text.index("{{ ref: second }}") < later < text.index("(later.md#claim-first-good-text)")
    assert "(intro.md#claim-first-bad-text)" in text[intro:later]
    assert "## Claims no page states" in text  # "trivial" is stated nowhere
    # Columns name the actual seeds; a row per comparison, the real run first.
    assert '<th scope="col">seed</th><th scope="col">0</th>' in text
    assert '<tr><th scope="row">real</th><td class="sym-seed--holds">0.9123 vs 0.5' in text


def test_claims_appendix_shows_nulls_controls_separation_rule_and_history() -> None:
    from symbiote_core.figures.authoring.spec import Control
    from symbiote_core.figures.site.claim_history import Commit, Setting, ThresholdRecord
    from symbiote_core.figures.site.claims_page import claims_page

    claim = Claim(name="sep", statement="Score beats chance.", left="score", op=">",
                  right="chance", margin=0.5, control="chance", why="a test",
                  null=(Null(description="untrained host", values={"score": "untrained"}),
                        Null(description="shuffled host", values={"score": "shuffled"})),
                  controls=Control(description="final instead", values={"score": "count"}))
    values = {**VALUES, "shuffled": [0.2, 0.3, 0.25], "untrained": [0.15, 0.2, 0.13]}
    fig = FigureView(name="fig", number=1, page="p.md",
                     meta={**META, "claims": [claim.evaluate(values).to_json()]})
    old, new = (Setting("score", ">", "chance", m, "every_seed") for m in (0.7, 0.5))
    record = ThresholdRecord("revised after results", Commit("a" * 40, "2026-11-01"),
                             Commit("b" * 40, "2026-11-02"),
                             (Change(Commit("b" * 40, "2026-11-02"), old, new, True),))
    text = claims_page({"fig": fig}, {}, records={("fig", "sep"): record})
    assert "**Null 1:** untrained host" in text and "**Null 2:** shuffled host" in text
    assert "**Control** (reported, not deciding): final instead" in text
    assert "sym-seed-row--null" in text and "sym-seed-row--control" in text
    assert "decided by all three rules" in text
    assert "**Separation:** weakest seed" in text and "separated by" in text
    assert "revised after results; in force since bbbbbbb (2026-11-02)" in text
    assert "`score > chance + 0.7 (every_seed)` → `score > chance + 0.5 (every_seed)`" in text


def test_claim_stated_as_failed_is_marked_quietly_unless_it_holds() -> None:
    stated = Claim(name="gone", statement="Score is huge.", left="score", op=">",
                   right="count", control="c", why="w", stated="fails",
                   null=Null(description="chance", values={"score": "chance"}))
    fig = view()
    fig.meta = {**META, "claims": [stated.evaluate(VALUES).to_json()]}
    out = renderer(fig=fig).render("{{ claim: fig.gone }}")
    assert "sym-claim--reported" in out and "it fails, as the text says" in out
    # Stated as failed, one that cannot fail is marked with its own verdict, not "fails".
    trivial = Claim(name="gone", statement="Score is positive.", left="score", op=">",
                    right=-1.0, control="c", why="w", stated="fails",
                    null=Null(description="chance", values={"score": "chance"}))
    fig.meta = {**META, "claims": [trivial.evaluate(VALUES).to_json()]}
    out = renderer(fig=fig).render("{{ claim: fig.gone }}")
    assert "sym-claim--reported" in out and "cannot fail, as stated" in out
    assert "it cannot fail (a null holds too), as the text says" in out
    holding = Claim(name="gone", statement="Score is high.", left="score", op=">", right=0.5,
                    control="c", why="w", stated="fails",
                    null=Null(description="chance", values={"score": "chance"}))
    fig.meta = {**META, "claims": [holding.evaluate(VALUES).to_json()]}
    out = renderer(fig=fig).render("{{ claim: fig.gone }}")
    assert "sym-claim--fails" in out and "HOLDS" in out


def test_a_value_of_an_entry_without_descriptions_names_itself() -> None:
    """An entry stored before values were described: its name stands in; and a figure
    that no page embeds is named, not linked."""
    meta = {k: v for k, v in META.items() if k != "value_descriptions"}
    out = renderer(fig=view(meta=meta, number=None, page=None)).render("{{ value: fig.score }}")
    assert "fig.score, mean of 3 seeds (0.9123, 0.9, 0.93). From figure fig: A figure." in out
    assert "<a " not in out.split('class="sym-tip"')[1]


def test_a_quoted_param_says_what_it_is_from_its_docstring() -> None:
    meta = {**META, "params": {"seeds": [0, 1, 2], "host": {"width": 16}}}
    docs = {("fig", "host.width"): "Hidden units (`Host.width`) of the host. Chosen on seeds."}
    r = renderer(fig=view(meta=meta))
    r.param_doc = lambda figure, path: docs.get((figure, path), "")
    out = r.render("{{ param: fig.host.width }} and {{ param: fig.seeds }}")
    assert ("Hidden units of the host, a setting of the experiment. "
            'From <a href="../page/#fig-fig">Figure 1</a>: A figure.') in out
    assert "the setting seeds, a setting of the experiment" in out  # no docstring
    assert r.problems == []
