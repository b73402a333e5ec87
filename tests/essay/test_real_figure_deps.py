"""On the real project: editing a library file makes stale exactly the figures importing it."""

from __future__ import annotations

from pathlib import Path

from support.project import session_figure_cache

from symbiote_core.figures.engine.build import plan
from symbiote_core.figures.engine.keys import figure_keys
from symbiote_core.figures.engine.registry import Engine, figure_names


def statuses(root: Path) -> dict[str, str]:
    engine = Engine(root=root, cache_dir=session_figure_cache())
    return {p.name: p.key for p in plan(engine)}


def test_library_edit_changes_keys_of_importers_only(project_copy) -> None:
    project = project_copy()
    engine = Engine(root=project)
    before = statuses(project)
    deps = {name: {engine.relative(p) for p in figure_keys(engine, name).deps}
            for name in figure_names(engine)}
    touched = "symbiote_core/hosts/toy.py"
    assert any(touched in d for d in deps.values()), "no figure imports the toy host?"
    path = project / touched
    path.write_text(path.read_text() + "\n# an edit\n")
    after = statuses(project)
    for name in before:
        changed = before[name] != after[name]
        assert changed == (touched in deps[name]), name


def test_prose_edit_changes_no_key(project_copy) -> None:
    project = project_copy()
    before = statuses(project)
    page = project / "essay" / "superposition.md"
    page.write_text(page.read_text() + "\nMore prose.\n")
    assert statuses(project) == before


# ------------------------------------------------- keys that match what a figure uses

PALETTE = "symbiote_core/figures/authoring/palette.py"
METRICS = "symbiote_core/metrics.py"
MATRYOSHKA = "symbiote_core/symbiotes/matryoshka.py"


def all_keys(engine: Engine) -> dict[str, object]:
    """Every figure's keys, as a build plans them: through the process's memo, which must
    see each edit by the file's signature (every edit here follows a second or more of
    planning, so no two writes share a timestamp)."""
    from symbiote_core.figures.engine.deps import SourceCache

    sources = SourceCache(engine)
    return {name: figure_keys(engine, name, sources) for name in figure_names(engine)}


def changed(before: dict, after: dict, field: str) -> set[str]:
    return {n for n in before if getattr(before[n], field) != getattr(after[n], field)}


def test_each_edit_changes_the_keys_of_what_uses_it(project_copy) -> None:
    """The measurements of issue 16 (`figures keys` before and after an edit), as a test:
    a colour re-renders every chart that uses the palette and recomputes nothing; a
    function nobody calls, in a symbiote kind or in metrics, recomputes nothing; an edit
    to a function that compute runs recomputes exactly the figures that run it."""
    project = project_copy()
    engine = Engine(root=project)
    base = all_keys(engine)
    rel = {n: {engine.relative(p) for p in k.deps} for n, k in base.items()}

    def after(file: str, old: str | None, new: str) -> dict:
        path = project / file
        text = path.read_text()
        assert old is None or old in text, (file, old)
        path.write_text(text + new if old is None else text.replace(old, new, 1))
        try:
            return all_keys(engine)
        finally:
            path.write_text(text)

    colour = after(PALETTE, '"#2857a8"', '"#2857a9"')
    users = {n for n in base if PALETTE in rel[n]}
    assert users and changed(base, colour, "key") == users
    assert changed(base, colour, "data_key") == set()

    unused = "\n\ndef _unused(x):\n    return x + 1\n"
    assert changed(base, after(MATRYOSHKA, None, unused), "data_key") == set()
    assert changed(base, after(METRICS, None, unused), "data_key") == set()

    # A real edit to fvu: exactly the figures whose compute can run it recompute.
    fvu = after(METRICS, "    residual = (x - recon)", "    x = x + 0\n    residual = (x - recon)")
    runs_fvu = {n for n, k in base.items() if "fvu" in k.data_parts.get("symbiote_core.metrics", ())}
    assert runs_fvu and runs_fvu != set(base)
    assert changed(base, fvu, "data_key") == runs_fvu


KIND_FIGURE = """
from dataclasses import dataclass

import altair as alt

from symbiote_core.figures.authoring.spec import Figure


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (0,)


def compute(params):
    import symbiote_core as sc

    sae = sc.make_dictionary(sc.{config}(d_in=4, d_sae=8, k=2))
    return {{"n": int(sae.W_dec.shape[-2])}}


def render(data):
    return alt.Chart(alt.Data(values=[data])).mark_point()


FIGURE = Figure(title="t", caption="c", alt="a", params=Params(), compute=compute, render=render,
                tuning_seeds=(), tuning_note="a test fixture")
"""


def test_a_symbiote_kind_is_in_the_data_key_of_its_users_only(project_copy) -> None:
    """Kinds load through `registry.KINDS` and `symbiote_core`'s lazy exports: a figure
    depends on the module of the kind it names, and on no other kind's."""
    project = project_copy()
    engine = Engine(root=project)
    for config in ("TopKConfig", "MatryoshkaConfig"):
        name = f"uses_{config.lower()}"
        (project / "figures_src" / f"{name}.py").write_text(KIND_FIGURE.format(config=config))
    found = all_keys(engine)
    kinds = {
        name: {p.stem for p in keys.data_deps if p.parent.name == "symbiotes"}
        for name, keys in found.items()
    }
    assert "matryoshka" in kinds["uses_matryoshkaconfig"]
    assert "topk" in kinds["uses_topkconfig"] and "matryoshka" not in kinds["uses_topkconfig"]
    essay = set(found) - {"uses_topkconfig", "uses_matryoshkaconfig"}
    assert not any("matryoshka" in kinds[name] for name in essay)  # none names that kind
