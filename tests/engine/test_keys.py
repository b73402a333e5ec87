"""Keys that match what a figure uses (issue 16), on throwaway projects.

The data key follows, at the level of top-level functions and classes, what a figure's
compute side can run (`engine/deps.py`). Each case below makes one edit to a fresh copy
of a small project and checks exactly which figures' data keys change: an unused
function changes nothing, and everything that can change what compute does must
(code it runs, module-level state, a default argument or decorator evaluated at import,
a class statement, a builtin shadowed, a function reached only through another module or
a registry). The worker-side backstops run real workers: a function reached through a
computed name fails the build, and so does reading a file the keys do not cover, while a
declared input enters the data key.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import runpy
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from symbiote_core.figures.engine import memo
from symbiote_core.figures.engine.build import build, load_entry, plan
from symbiote_core.figures.engine.deps import SourceCache
from symbiote_core.figures.engine.keys import figure_keys
from symbiote_core.figures.engine.registry import Engine, figure_names

CHART = 'import altair as alt\nreturn alt.Chart(alt.Data(values=[{"x": 1}])).mark_point()'


def figure(
    imports: str, body: str, render: str = CHART, extra: str = "", inputs: str = ""
) -> str:
    """A figure module: `compute` runs `body` after `imports` (inside it); `extra` goes
    at the top, `inputs` into `Figure(inputs=...)`."""
    return textwrap.dedent(
        '''
        from dataclasses import dataclass

        from pathlib import Path

        from symbiote_core.figures.authoring.spec import Figure, Value
        {extra}

        ROOT = Path(__file__).resolve().parents[1]

        @dataclass(frozen=True)
        class Params:
            n: int = 2


        def compute(params):
            {imports}
            {body}


        def render(data):
            {render}


        FIGURE = Figure(
            title="t", caption="c", alt="a", params=Params(), compute=compute, render=render,
            inputs=({inputs}),
        )
        '''
    ).format(
        imports=imports.replace("\n", "\n    "),
        body=body.replace("\n", "\n    "),
        render=render.replace("\n", "\n    "),
        extra=extra,
        inputs=inputs,
    )


LIBRARY = {
    "pkg/__init__.py": "",
    "pkg/maths.py": '''
        """Maths for the fake figures."""

        import functools

        from pkg.registry import register

        SCALE = 2


        def double(x):
            """Twice its helper."""
            return helper(x) * SCALE


        def helper(x):
            return max(x, 0)


        def unused(x):
            return x - 1


        class Shape:
            sides = 4

            def area(self, x):
                return x * x


        class Unused:
            colour = "red"

            def paint(self):
                return self.colour
        ''',
    "pkg/registry.py": "KINDS = {}\n\n\ndef register(f):\n    KINDS[f.__name__] = f\n    return f\n",
    "pkg/alias.py": "from pkg.far import reached as near\n\n\ndef run(x):\n    return near(x)\n",
    "pkg/far.py": "def reached(x):\n    return x + 1\n\n\ndef other(x):\n    return x\n",
    "pkg/lazy_import.py": (
        "def unreached():\n    from pkg import heavy\n\n    return heavy.X\n\n\n"
        "def reached():\n    return 1\n"
    ),
    "pkg/heavy.py": "X = 1\n",
    "pkg/labels.py": "def label(x):\n    return str(x)\n",
    "pkg/introspect.py": "def names():\n    return sorted(globals())\n",
    "pkg/plugins.py": (
        "PLUGINS = []\n\n\nclass Base:\n    def __init_subclass__(cls, **kwargs):\n"
        "        PLUGINS.append(cls)\n\n\ndef run_all():\n"
        "    return [plugin().go() for plugin in PLUGINS]\n"
    ),
    "pkg/plugin_a.py": "from pkg.plugins import Base\n\n\nclass A(Base):\n    def go(self):\n        return 1\n",
}

FIGURES = {
    "uses_double": figure("from pkg.maths import double", 'return {"v": double(params.n)}'),
    "uses_shape": figure("from pkg.maths import Shape", 'return {"v": Shape().area(params.n)}'),
    "uses_alias": figure("from pkg.alias import run", 'return {"v": run(params.n)}'),
    "uses_lazy": figure("from pkg.lazy_import import reached", 'return {"v": reached()}'),
    "plain": figure("", 'return {"v": params.n}'),
    "renders_label": figure(
        "", 'return {"v": params.n}', render=f'from pkg.labels import label\nlabel(1)\n{CHART}'
    ),
    "uses_sys_modules": figure(
        "import sys\nimport pkg.far  # noqa: F401",
        'module = sys.modules["pkg.far"]\nreturn {"v": getattr(module, "other")(params.n)}',
    ),
    "uses_vars": figure("import pkg.far as far", 'return {"v": sorted(vars(far))[:0]}'),
    "uses_globals": figure("from pkg.introspect import names", 'return {"v": names()[:0]}'),
    "uses_plugins": figure(
        "import pkg.plugin_a  # noqa: F401\nfrom pkg.plugins import run_all",
        'return {"v": run_all()}',
    ),
}
NAMES = sorted(FIGURES)
MATHS = {"uses_double", "uses_shape"}  # the figures that import pkg/maths.py


def make_project(root: Path, files: dict[str, str] | None = None) -> Engine:
    sources = {
        **{k: textwrap.dedent(v).lstrip() for k, v in LIBRARY.items()},
        "figs/__init__.py": "",
        **{f"figs/{name}.py": text for name, text in FIGURES.items()},
        **(files or {}),
    }
    for name, text in sources.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Engine(
        root=root,
        figures_package="figs",
        project_packages=("figs", "pkg"),
        cache_dir=root / ".cache" / "figures",
    )


def keys(engine: Engine) -> dict[str, tuple[str, str]]:
    """(key, data key) per figure, derived from the bytes (no memo)."""
    memo.clear_all()
    sources = SourceCache(engine)
    found = {name: figure_keys(engine, name, sources) for name in figure_names(engine)}
    return {name: (k.key, k.data_key) for name, k in found.items()}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + "\n\n" + textwrap.dedent(text).lstrip())


MATHS_PY = "pkg/maths.py"
# (what, file, old text or None to append, new text, figures whose data key must change)
CASES = [
    ("an unused function added", MATHS_PY, None, "def added(x):\n    return x\n", set()),
    ("an unused function edited", MATHS_PY, "x - 1", "x - 2", set()),
    ("a comment", MATHS_PY, "def helper", "# clamps at zero\ndef helper", set()),
    ("a docstring", MATHS_PY, "Twice its helper.", "Two times its helper.", set()),
    ("a function reached through another", MATHS_PY, "max(x, 0)", "max(x, 1)", {"uses_double"}),
    ("module-level state", MATHS_PY, "SCALE = 2", "SCALE = 3", MATHS),
    (
        "an unused function whose default runs at import",
        MATHS_PY,
        None,
        "def added(x=SCALE * 2):\n    return x\n",
        MATHS,
    ),
    ("an unused function with a literal default", MATHS_PY, None, "def added(x=3):\n    return x\n", set()),
    (
        "an unused function a decorator may register",
        MATHS_PY,
        None,
        "@register\ndef added(x):\n    return x\n",
        MATHS,
    ),
    (
        "an unused function under a transparent decorator",
        MATHS_PY,
        None,
        "@functools.lru_cache(maxsize=8)\ndef added(x):\n    return x\n",
        set(),
    ),
    ("a method of a used class", MATHS_PY, "return x * x", "return x * x * 1", {"uses_shape"}),
    ("a method added to a used class", MATHS_PY, "    sides = 4\n", "    sides = 4\n\n    def more(self):\n        return 1\n", {"uses_shape"}),
    ("a method of an unused class", MATHS_PY, "return self.colour", "return self.colour * 2", set()),
    ("the body of an unused class statement", MATHS_PY, 'colour = "red"', 'colour = "blue"', MATHS),
    ("a builtin shadowed", MATHS_PY, None, "def max(a, b):\n    return a\n", {"uses_double"}),
    (
        "a function reached only through an alias",
        "pkg/far.py",
        "x + 1",
        "x + 2",
        {"uses_alias", "uses_vars"},  # uses_vars lists the whole module
    ),
    ("a function reached by a string name", "pkg/far.py", "    return x\n", "    return -x\n", {"uses_sys_modules", "uses_vars"}),
    ("a function added to a module used as a value", "pkg/far.py", None, "def added():\n    return 1\n", {"uses_vars"}),
    ("a function added to a module that reads its globals", "pkg/introspect.py", None, "def added():\n    return 1\n", {"uses_globals"}),
    ("a module imported only by an unreached function", "pkg/heavy.py", "X = 1", "X = 2", set()),
    ("a class found through __init_subclass__", "pkg/plugin_a.py", "return 1", "return 2", {"uses_plugins"}),
    ("a library module only render imports", "pkg/labels.py", "str(x)", "repr(x)", set()),
]


@pytest.mark.parametrize(("what", "file", "old", "new", "changed"), CASES, ids=[c[0] for c in CASES])
def test_a_data_key_changes_exactly_when_compute_can_run_the_edit(
    tmp_path: Path, what: str, file: str, old: str | None, new: str, changed: set[str]
) -> None:
    engine = make_project(tmp_path)
    before = keys(engine)
    if old is None:
        append(tmp_path / file, new)
    else:
        edit(tmp_path / file, old, new)
    after = keys(engine)
    assert {n for n in NAMES if after[n][1] != before[n][1]} == changed, what


def test_render_side_edits_change_the_key_but_never_the_data_key(tmp_path: Path) -> None:
    engine = make_project(tmp_path)
    before = keys(engine)
    edit(tmp_path / "pkg/labels.py", "str(x)", "repr(x)")
    after = keys(engine)
    assert {n for n in NAMES if after[n][0] != before[n][0]} == {"renders_label"}
    assert {n for n in NAMES if after[n][1] != before[n][1]} == set()
    # A comment in code compute runs re-renders (the key hashes raw bytes) but never
    # recomputes.
    edit(tmp_path / MATHS_PY, "def double", "# doubles\ndef double")
    commented = keys(engine)
    assert {n for n in NAMES if commented[n][0] != after[n][0]} == MATHS
    assert {n for n in NAMES if commented[n][1] != after[n][1]} == set()


def test_an_imported_figure_modules_render_side_is_not_part_of_the_data_key(
    tmp_path: Path,
) -> None:
    shared = figure(
        "",
        'return {"v": params.n}',
        render=f'_tag(1)\nfrom pkg.labels import label\nlabel(1)\n{CHART}',
        extra="\n\ndef _tag(x):\n    return f'<{x}>'\n",
    )
    borrower = figure("from figs.shared import compute as other", "return other(params)")
    tagger = figure("from figs.shared import _tag", 'return {"v": _tag(params.n)}')
    files = {"figs/shared.py": shared, "figs/borrower.py": borrower, "figs/tagger.py": tagger}
    engine = make_project(tmp_path, files)
    before = keys(engine)
    edit(tmp_path / "pkg/labels.py", "str(x)", "repr(x)")  # imported by shared's render
    after = keys(engine)
    assert after["borrower"][1] == before["borrower"][1]
    assert after["borrower"][0] != before["borrower"][0]  # its whole module does reach it
    # A helper only the imported figure's render uses is still what the importer runs.
    edit(tmp_path / "figs/shared.py", "return f'<{x}>'", "return f'[{x}]'")
    tagged = keys(engine)
    changed = {n for n in tagged if tagged[n][1] != after[n][1]}
    assert changed == {"tagger"}


# ------------------------------------------------------------ worker backstops

TABLE = "data/table.csv"
PACKAGE = "pytest"  # installed wherever these tests run
PACKAGE_FILE = "pytest/__init__.py"

READ_TABLE = 'return {"v": (ROOT / "data" / "table.csv").read_text()}'
WORKER_FIGURES = {
    "computed_name": figure(
        "import sys\nimport pkg.kinds  # noqa: F401",
        'module = sys.modules["pkg" + ".kinds"]\n'
        'return {"v": getattr(module, "make" + "_a")()}',
    ),
    "undeclared": figure("", READ_TABLE),
    "swallowed": figure(
        "",
        "try:\n    (ROOT / 'data' / 'table.csv').read_text()\nexcept Exception:\n    pass\n"
        'return {"v": 0}',
    ),
    "declared": figure("", READ_TABLE, inputs=f"{TABLE!r},"),
    "package_input": figure(
        "import importlib.util",
        f'origin = importlib.util.find_spec("{PACKAGE}").origin\n'
        'return {"v": len(Path(origin).read_bytes())}',
        extra="from symbiote_core.figures.authoring.inputs import Package",
        inputs=f"Package({PACKAGE!r}, {PACKAGE_FILE!r}),",
    ),
    "package_undeclared": figure(
        "import importlib.util",
        'origin = importlib.util.find_spec("_pytest").origin\n'
        'return {"v": len(Path(origin).read_bytes())}',
    ),
    "not_literal": figure(
        "", 'return {"v": 0}', extra="import os", inputs='os.path.join("data", "table.csv"),'
    ),
    # A figure module whose FIGURE call runs a helper at import (for its values), and one
    # whose compute imports it: that import runs the helper inside the importer's compute.
    "getter_at_import": figure(
        "", 'return {"v": params.n}', extra="\n\ndef _getter(key):\n    return lambda d: d[key]\n"
    ).replace("render=render,", 'render=render, values={"v": Value("the n param", _getter("v"))},'),
    "imports_a_figure": figure(
        "from figs.getter_at_import import compute as other", "return other(params)"
    ),
}


@pytest.fixture(scope="module")
def worker_project(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("keys") / "project"
    files = {f"figs/{n}.py": t for n, t in WORKER_FIGURES.items()}
    files["pkg/kinds.py"] = "def make_a():\n    return 1\n\n\ndef make_b():\n    return 2\n"
    files[TABLE] = "x,y\n1,2\n"
    engine = make_project(root, files)
    for name in FIGURES:  # only the figures of these tests
        (root / "figs" / f"{name}.py").unlink()
    return engine


@pytest.fixture(scope="module")
def worker_results(worker_project: Engine) -> dict[str, object]:
    return {r.name: r for r in build(worker_project, sorted(WORKER_FIGURES), jobs=2)}


def test_a_figure_imported_by_compute_may_run_its_presentation_at_import(
    worker_results: dict,
) -> None:
    assert worker_results["imports_a_figure"].status == "computed"
    assert worker_results["imports_a_figure"].entry.data == {"v": 2}


def test_a_function_reached_by_a_computed_name_fails_the_build(
    worker_project: Engine, worker_results: dict
) -> None:
    result = worker_results["computed_name"]
    assert result.status == "failed"
    assert "compute ran pkg.kinds.make_a, which its data key does not cover" in result.error
    assert not (worker_project.cache_dir / "data" / "computed_name").exists()


@pytest.mark.parametrize("name", ["undeclared", "swallowed"])
def test_reading_an_undeclared_file_fails_naming_it(
    worker_project: Engine, worker_results: dict, name: str
) -> None:
    result = worker_results[name]
    assert result.status == "failed"
    assert f"figure {name!r} read {TABLE}, which its cache key does not cover" in result.error
    assert "Figure(inputs=...)" in result.error
    assert not (worker_project.cache_dir / "data" / name).exists()


def test_reading_an_undeclared_file_of_an_installed_package_fails(worker_results: dict) -> None:
    result = worker_results["package_undeclared"]
    assert result.status == "failed"
    assert "_pytest/__init__.py, which its cache key does not cover" in result.error


def test_declared_inputs_build_and_enter_the_data_key(
    worker_project: Engine, worker_results: dict
) -> None:
    assert worker_results["declared"].status == "computed"
    assert worker_results["declared"].entry.data == {"v": "x,y\n1,2\n"}
    assert worker_results["package_input"].status == "computed"
    keys = figure_keys(worker_project, "package_input")
    (file,) = keys.inputs.files
    version = importlib.metadata.version(PACKAGE)
    assert file.name == f"{PACKAGE}=={version}/{PACKAGE_FILE}"


def test_a_declaration_the_planner_cannot_read_fails_that_figure_only(
    worker_project: Engine, worker_results: dict
) -> None:
    result = worker_results["not_literal"]
    assert result.status == "failed"
    assert "inputs: cannot read \"os.path.join('data', 'table.csv')\"" in result.error
    assert worker_results["declared"].ok


def test_editing_a_declared_input_recomputes_only_its_readers(
    worker_project: Engine, worker_results: dict, tmp_path: Path
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(worker_project.root, root)
    engine = Engine(
        root=root,
        figures_package="figs",
        project_packages=("figs", "pkg"),
        cache_dir=root / ".cache" / "figures",
    )
    before = {p.name: p for p in plan(engine)}
    assert before["declared"].status == "cached"
    (root / TABLE).write_text("x,y\n1,3\n")
    after = {p.name: p for p in plan(engine)}
    changed = {n for n in after if after[n].data_key != before[n].data_key}
    assert changed == {"declared"}
    assert after["declared"].status == "stale"
    (rebuilt,) = build(engine, ["declared"])
    assert rebuilt.status == "computed" and rebuilt.entry.data == {"v": "x,y\n1,3\n"}


# ------------------------------------------------------------ the palette

OLD_COLOUR, NEW_COLOUR = "#2857a8", "#1f4e9c"  # the symbiote role's light colour
PALETTE_FIGURES = {
    # The palette imported inside render: a colour edit re-renders, never recomputes.
    "colours": figure(
        "",
        'return {"v": params.n}',
        render="from symbiote_core.figures.authoring import palette\n"
        "import altair as alt\n"
        'return alt.Chart(alt.Data(values=[data])).mark_point(color=palette.color("symbiote"))',
    ),
    # The palette read by compute: its data follows the colours.
    "tinted": figure(
        "",
        'return {"c": palette.color("symbiote")}',
        extra="from symbiote_core.figures.authoring import palette",
    ),
}


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI run from `root`, so that the project's own engine and palette run."""
    command = [
        sys.executable, "-m", "symbiote_core.figures", "--root", str(root),
        "--figures-package", "figs", "--project-packages", "figs,symbiote_core",
        "--cache-dir", str(root / ".cache" / "figures"), *args,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=600)


def test_a_palette_edit_rerenders_its_charts_and_the_dark_swap_still_matches(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    shutil.copytree(
        Path(__file__).resolve().parents[2] / "symbiote_core",
        root / "symbiote_core",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name, text in PALETTE_FIGURES.items():
        (root / "figs").mkdir(exist_ok=True)
        (root / "figs" / f"{name}.py").write_text(text)
    (root / "figs" / "__init__.py").write_text("")
    engine = Engine(
        root=root,
        figures_package="figs",
        project_packages=("figs", "symbiote_core"),
        cache_dir=root / ".cache" / "figures",
    )
    built = cli(root, "build", "colours")
    assert built.returncode == 0 and "colours: computed" in built.stdout, built.stdout + built.stderr
    before = {p.name: p for p in plan(engine)}

    palette = root / "symbiote_core" / "figures" / "authoring" / "palette.py"
    edit(palette, f'"{OLD_COLOUR}"', f'"{NEW_COLOUR}"')
    after = {p.name: p for p in plan(engine)}
    assert after["colours"].key != before["colours"].key
    assert after["colours"].data_key == before["colours"].data_key
    assert after["colours"].status == "data-cached"
    assert after["tinted"].data_key != before["tinted"].data_key

    # A worker whose engine package is another checkout (this test's) would draw with
    # that checkout's palette: the build refuses, naming the file, instead of caching it.
    (mismatch,) = build(engine, ["colours"])
    assert mismatch.status == "failed"
    assert "figures/authoring/palette.py" in mismatch.error
    assert "not the file under the project root it was hashed from" in mismatch.error

    rerendered = cli(root, "build", "colours")
    assert "colours: rendered" in rerendered.stdout, rerendered.stdout + rerendered.stderr
    entry = load_entry(engine, "colours")
    assert entry is not None and entry.meta["data_reused"] is True
    spec = entry.payloads["spec.json"].decode()
    assert NEW_COLOUR in spec and OLD_COLOUR not in spec
    # site.js swaps every light role colour for its dark twin by value: the new colour
    # must be one it knows.
    swaps = runpy.run_path(str(palette))["swaps"]()  # the edited palette's
    colours = set(re.findall(r"#[0-9a-f]{6}", spec))
    assert colours and colours <= set(swaps)


# ------------------------------------------------------------ the read guard, in process


def test_the_read_guard_allows_declared_written_and_cached_files_only(tmp_path: Path) -> None:
    from symbiote_core.figures.engine import reads

    engine = make_project(tmp_path, {TABLE: "x\n1\n", "data/other.csv": "y\n"})
    declared = (tmp_path / TABLE).resolve()
    guard = reads.guard_for(engine, "probe", [declared])
    cached = engine.cache_dir / "artifacts" / "a.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"1")
    installed = Path(importlib.metadata.distribution(PACKAGE).locate_file(PACKAGE_FILE))
    with reads.watch(guard):
        assert declared.read_text() == "x\n1\n"
        assert sorted(p.name for p in declared.parent.iterdir()) == ["other.csv", "table.csv"]
        (tmp_path / "scratch.txt").write_text("mine")  # written here, so readable
        assert (tmp_path / "scratch.txt").read_text() == "mine"
        assert cached.read_bytes() == b"1"
        with pytest.raises(reads.UndeclaredReadError, match=re.escape("read data/other.csv")):
            (tmp_path / "data" / "other.csv").read_text()
        with pytest.raises(reads.UndeclaredReadError, match=re.escape(str(installed))):
            installed.read_bytes()  # this test's code is the project's here
        assert sorted(installed.parent.iterdir())  # listing a package's folder is free
    assert guard.read == {declared}
    assert (tmp_path / "data" / "other.csv").read_text() == "y\n"  # the guard is off again
