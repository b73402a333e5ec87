"""On the real project: editing a library file makes stale exactly the figures importing it."""

from __future__ import annotations

from pathlib import Path

from support.project import session_figure_cache

from symbiote_core.figures.engine.build import plan
from symbiote_core.figures.engine.deps import project_deps
from symbiote_core.figures.engine.registry import Engine, figure_names


def statuses(root: Path) -> dict[str, str]:
    engine = Engine(root=root, cache_dir=session_figure_cache())
    return {p.name: p.key for p in plan(engine)}


def test_library_edit_changes_keys_of_importers_only(project_copy) -> None:
    project = project_copy()
    engine = Engine(root=project)
    before = statuses(project)
    deps = {name: {engine.relative(p) for p in project_deps(engine, engine.module_name(name))}
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
