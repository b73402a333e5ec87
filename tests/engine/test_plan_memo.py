"""Planning memoised on file signatures (`symbiote_core/figures/engine/memo.py`, issue 10).

A plan that finds nothing changed reads no source and no entry; one edit re-derives the
keys of the figures that depend on the edited file and of no other; every change a
plan must see is still seen: an edit that keeps the size and the mtime, a file that
appears and changes what an import resolves to, a damaged entry, and an edit made so
soon after the last plan that timestamps cannot tell it apart.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest

from symbiote_core.figures.engine import keys as keys_module
from symbiote_core.figures.engine import memo
from symbiote_core.figures.engine.build import plan
from symbiote_core.figures.engine.cache import EntryMeta, write_entry
from symbiote_core.figures.engine.deps import SourceCache
from symbiote_core.figures.engine.keys import figure_keys
from symbiote_core.figures.engine.registry import Engine

NAMES = ["alpha", "beta", "sneaky"]  # alpha imports lib.curves; beta and sneaky do not


@pytest.fixture
def engine(fake_project) -> Engine:
    memo.clear_all()
    return fake_project()


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled at once (no 2 s wait per test)."""
    monkeypatch.setattr(memo, "RACY_NS", 0)


@pytest.fixture
def derived(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each figure's keys were derived from source (memo misses)."""
    calls: Counter[str] = Counter()
    real = keys_module.figure_keys

    def counting(engine: Engine, name: str, *args: object, **kwargs: object):
        calls[name] += 1
        return real(engine, name, *args, **kwargs)

    monkeypatch.setattr(keys_module, "figure_keys", counting)
    return calls


def fresh_keys(engine: Engine) -> dict[str, str]:
    """Keys derived from the bytes, bypassing every memo."""
    memo.clear_all()
    sources = SourceCache(engine)
    return {name: figure_keys(engine, name, sources).key for name in NAMES}


def planned(engine: Engine) -> dict[str, str]:
    return {item.name: item.key for item in plan(engine, NAMES)}


def test_a_plan_with_nothing_changed_derives_no_key(
    engine: Engine, settled: None, derived: Counter[str]
) -> None:
    first = planned(engine)
    assert derived == Counter(NAMES)
    assert planned(engine) == first
    assert derived == Counter(NAMES)  # the second plan read no source
    assert first == fresh_keys(engine)


def test_an_edit_re_derives_only_the_figures_that_import_the_file(
    engine: Engine, settled: None, derived: Counter[str]
) -> None:
    before = planned(engine)
    curves = engine.root / "lib" / "curves.py"
    curves.write_text(curves.read_text() + "\nEXTRA = 1\n")
    after = planned(engine)
    assert derived == Counter({"alpha": 2, "beta": 1, "sneaky": 1})
    assert after["alpha"] != before["alpha"]
    assert {n: after[n] for n in ("beta", "sneaky")} == {n: before[n] for n in ("beta", "sneaky")}
    assert after == fresh_keys(engine)


def test_an_edit_that_keeps_size_and_mtime_is_seen(engine: Engine, settled: None) -> None:
    before = planned(engine)
    curves = engine.root / "lib" / "curves.py"
    text = curves.read_text()
    stat = curves.stat()
    edited = text.replace("i + rng.random()", "i - rng.random()")  # same length
    assert len(edited) == len(text) and edited != text
    curves.write_text(edited)
    os.utime(curves, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # mtime put back
    assert curves.stat().st_mtime_ns == stat.st_mtime_ns
    assert curves.stat().st_size == stat.st_size
    after = planned(engine)
    assert after["alpha"] != before["alpha"]  # the ctime moved: no program can set it back
    assert after == fresh_keys(engine)


def test_a_file_that_changes_what_an_import_resolves_to_is_seen(
    engine: Engine, settled: None
) -> None:
    before = planned(engine)
    # `from lib.curves import noisy_line` now finds the package lib/curves/ first.
    package = engine.root / "lib" / "curves"
    package.mkdir()
    (package / "__init__.py").write_text((engine.root / "lib" / "curves.py").read_text())
    (package / "_util.py").write_text((engine.root / "lib" / "_util.py").read_text())
    after = planned(engine)
    assert after["alpha"] != before["alpha"]
    assert after == fresh_keys(engine)


def test_a_recent_edit_is_re_read_even_if_timestamps_cannot_tell(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, derived: Counter[str]
) -> None:
    """Coarse timestamps: a second write within one clock tick keeps every field of the
    signature. Faked here: every file looks an hour old, except lib/curves.py, whose
    signature ignores its content and says "written just now". The memo holds what it
    may (beta's keys), but never vouches for curves.py, so the edit is seen."""
    curves = engine.root / "lib" / "curves.py"
    now = time.time_ns()
    hour = 3600 * 10**9
    real = memo.signature

    def faked(path: Path) -> memo.Signature | None:
        if path == curves:
            return (0o100644, now, now, 0, 1, 1)
        sig = real(path)
        return None if sig is None else (sig[0], sig[1] - hour, sig[2] - hour, *sig[3:])

    monkeypatch.setattr(memo, "signature", faked)
    before = planned(engine)
    curves.write_text(curves.read_text() + "\nEXTRA = 1\n")
    after = planned(engine)
    assert derived["beta"] == 1  # memoised: the fake ages are honoured
    assert derived["alpha"] == 2
    assert after["alpha"] != before["alpha"]


def test_a_damaged_entry_is_found_although_it_was_memoised(engine: Engine, settled: None) -> None:
    (item,) = plan(engine, ["alpha"])
    meta = EntryMeta(
        name="alpha",
        key=item.key,
        data_key=item.data_key,
        module="figs/alpha.py",
        deps=(),
        params={},
        seeds=(7,),
        versions={},
        git="test",
        compute_seconds=0.0,
        created="now",
        engine_format=0,
        title="t",
        caption="c",
        alt="a",
        values={},
        claims=(),
        render_seconds=0.0,
        data_reused=False,
    )
    files = {"spec.json": b"{}", "data.json": b"{}", "figure.svg": b"<svg/>"}
    folder = write_entry(engine, "out", "alpha", item.key, files, meta)
    assert plan(engine, ["alpha"])[0].status == "cached"
    assert plan(engine, ["alpha"])[0].status == "cached"  # served from the memo
    (folder / "figure.svg").write_bytes(b"<svg>")
    (again,) = plan(engine, ["alpha"])
    assert again.status == "stale"
    assert any("figure.svg does not match its checksum" in p for p in again.problems)


def test_the_memo_never_vouches_for_files_changed_just_before_a_plan(engine: Engine) -> None:
    """With the real margin, files the test just wrote are re-read by every plan."""
    assert memo.RACY_NS >= 1_000_000_000
    stats = memo.Stats()
    path = engine.root / "lib" / "curves.py"
    path.write_text(path.read_text())
    assert not stats.settled([stats(path)])
    old = time.time_ns() - 10 * memo.RACY_NS
    assert stats.settled([(0o100644, old, old, 1, 1, 1), None])


def test_the_essay_history_is_memoised_until_a_commit(
    tmp_path: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from symbiote_core.figures.site import history

    root = tmp_path / "repo"
    (root / "essay").mkdir(parents=True)

    def commit(text: str) -> None:
        (root / "essay" / "page.md").write_text(text)
        for args in (["add", "."], ["commit", "-qm", f"Page: {text}"]):
            subprocess.run(
                ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                cwd=root,
                check=True,
                capture_output=True,
            )

    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    commit("one")
    assert len(history.essay_history(root).changes) == 1
    runs = []
    real = history._essay_history
    monkeypatch.setattr(history, "_essay_history", lambda *a: runs.append(a) or real(*a))
    assert len(history.essay_history(root).changes) == 1
    assert runs == []  # served from the memo: no git log
    commit("two")
    assert len(history.essay_history(root).changes) == 2
    assert len(runs) == 1


def test_deferred_fragments_give_the_page_it_would_have_inline() -> None:
    """Specs, popovers, previews, claim marks, data summaries and provenance are kept out
    of Markdown and put back after: the same HTML either way."""
    import markdown as md

    from symbiote_core.figures.authoring.spec import Claim, Null
    from symbiote_core.figures.site.markup import FigureView, PageRenderer, fill_deferred

    values = {"v": [1.0, 2.0], "zero": [0.0, 0.0], "down": [-1.0, -0.5]}
    claim = Claim(name="up", statement="It goes up.", left="v", op=">", right="zero",
                  control="zero", why="w", null=Null(description="n", values={"v": "down"}))
    meta = {"title": "T|[x]", "caption": "C", "alt": "A {{ value: f0.v }}", "values": values,
            "claims": [claim.evaluate(values).to_json()], "params": {"n": 3}, "seeds": [0, 1]}
    spec = {"mark": "point", "data": {"values": [{"x": i, "label": "a|[b]`c"} for i in range(50)]}}
    views = {
        f"f{i}": FigureView(name=f"f{i}", number=i + 1, page="p.md", meta=meta, spec=spec,
                            files={"figure.svg": f"figures/f{i}/figure.svg"})
        for i in range(12)  # more than ten: token "x-1" must not match inside "x-10"
    }
    text = "\n\n".join(
        f"Some *prose*, {{{{ ref: f{i} }}}} at {{{{ value: f{i}.v }}}}: {{{{ claim: f{i}.up }}}}"
        f"\n\n{{{{ figure: f{i} }}}}"
        for i in range(12)
    )

    def page(deferred: dict[str, str] | None) -> str:
        r = PageRenderer(
            page="p.md",
            figures=views,
            url_to=lambda t: t,
            page_url=lambda s: s,
            deferred=deferred,
            token_prefix="sym-spec-test",
        )
        out = r.render(text)
        assert r.problems == []
        return md.markdown(out, extensions=["md_in_html", "attr_list"])

    deferred: dict[str, str] = {}
    markdown_html = page(deferred)
    # Per figure: spec, summary, provenance; per paragraph: preview, popover, claim mark.
    assert len(deferred) == 12 * 6
    for kept_out in ("sym-tip", "sym-provenance", "sym-summary", "sym-ref-preview", "sym-claim-mark"):
        assert kept_out not in markdown_html, kept_out
    # One pattern for the renderer's prefix (tip ids share the prefix, and are left alone).
    filled, missing = fill_deferred(markdown_html, deferred, "sym-spec-test")
    assert missing == []
    assert filled == page(None)
    lost = page({}).replace("sym-spec-test-3", "")
    assert fill_deferred(lost, {"sym-spec-test-3": "x"}, "sym-spec-test")[1] == ["sym-spec-test-3"]
