"""The figure engine on a fake project (`tests/fixtures/figure_project`), no torch figures.

One module-scoped build makes the shared starting point; a test that edits sources or
the cache works on its own copy (`project`), so the expensive worker processes run only
where a test needs them.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console
from support.engine import PACKAGES, cli_command, copy_fake_project, edit, fake_engine

from symbiote_core.figures import cli
from symbiote_core.figures.engine.build import BuildResult, build, load_entry, plan
from symbiote_core.figures.engine.cache import (
    entry_dir,
    prune,
    read_figure_entry,
    write_entry,
)
from symbiote_core.figures.engine.deps import dependency_sources
from symbiote_core.figures.engine.ownership import clean
from symbiote_core.figures.engine.registry import (
    Engine,
    FigureDefinitionError,
    UnknownFigureError,
    figure_names,
    load_figure,
)
from symbiote_core.figures.engine.sides import data_fingerprint


def compute_runs(engine: Engine, name: str) -> int:
    """How often compute ran: the fake figures append a line per call."""
    marker = engine.root / "markers" / f"{name}.txt"
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def temp_leftovers(engine: Engine) -> list[Path]:
    return list((engine.cache_dir / "tmp").glob("*"))


def statuses(results: list[BuildResult]) -> dict[str, str]:
    return {result.name: result.status for result in results}


def module_deps(engine: Engine, module: str) -> list[Path]:
    """Files `module` may import anywhere in it, transitively (a module-level analysis)."""
    return [source.path for source in dependency_sources(engine, module)]


def keys_of(engine: Engine) -> dict[str, tuple[str, str]]:
    return {item.name: (item.key, item.data_key) for item in plan(engine)}


@dataclass
class Built:
    engine: Engine
    results: dict[str, BuildResult]
    events: list[tuple[str, str]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    engine = copy_fake_project(tmp_path_factory.mktemp("built") / "project")
    events: list[tuple[str, str]] = []
    results = build(
        engine,
        ["alpha", "beta", "broken", "sneaky"],
        on_event=lambda name, kind, info: events.append((name, kind)),
    )
    return Built(engine, {result.name: result for result in results}, events)


@pytest.fixture
def project(built: Built, tmp_path: Path) -> Engine:
    """A private copy of the built project: sources, compute markers and cache."""
    return copy_fake_project(tmp_path / "project", source=built.engine.root)


# ---------------------------------------------------------------- building


def test_build_writes_complete_verified_entries(built: Built) -> None:
    engine = built.engine
    assert {n: r.status for n, r in built.results.items()} == {
        "alpha": "computed",
        "beta": "computed",
        "broken": "failed",
        "sneaky": "failed",
    }
    entry = built.results["alpha"].entry
    assert entry is not None
    assert set(entry.meta) == {
        "name",
        "key",
        "data_key",
        "module",
        "deps",
        "title",
        "caption",
        "alt",
        "params",
        "seeds",
        "tuning_seeds",
        "tuning_note",
        "values",
        "value_descriptions",
        "claims",
        "versions",
        "git",
        "compute_seconds",
        "render_seconds",
        "data_reused",
        "created",
        "engine_format",
        "sha256",
        "meta_sha256",
    }
    assert entry.title == "Alpha line" and entry.meta["seeds"] == [7]
    assert entry.params == {"seeds": [7], "n": 6}
    assert entry.values["n_points"] == [6]
    assert entry.meta["git"] == "unknown"  # the temporary root is no git checkout
    # lib/fmt.py is imported only inside lib.curves.describe, which alpha never reaches.
    assert entry.meta["deps"] == [
        "figs/__init__.py",
        "figs/_shared.py",
        "lib/__init__.py",
        "lib/_util.py",
        "lib/curves.py",
    ]
    assert set(entry.meta["versions"]) >= {"torch", "numpy", "altair", "vl-convert-python"}
    assert entry.spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert entry.payloads["figure.svg"].lstrip().startswith(b"<svg")
    assert entry.data == json.loads(entry.data_path.read_bytes())
    assert set(entry.files()) == {"figure.svg", "spec.json", "data.json", "meta.json"}
    assert entry.path == entry_dir(engine, "out", "alpha", entry.key)
    assert (engine.cache_dir / "data" / "alpha" / entry.data_key / "data.json").is_file()
    assert compute_runs(engine, "alpha") == 1
    assert temp_leftovers(engine) == []
    assert ("alpha", "start") in built.events and ("alpha", "done") in built.events


def test_a_failing_figure_reports_its_traceback_and_the_others_build(built: Built) -> None:
    broken = built.results["broken"]
    assert broken.status == "failed" and broken.entry is None
    assert broken.error is not None
    assert "figs/broken.py" in broken.error and "running compute" in broken.error
    assert "ValueError: broken on purpose" in broken.error
    assert ("broken", "failed") in built.events
    assert load_entry(built.engine, "broken") is None
    assert built.results["alpha"].ok and built.results["beta"].ok


def test_code_the_cache_key_cannot_see_is_never_cached(built: Built) -> None:
    sneaky = built.results["sneaky"]
    assert sneaky.status == "failed" and sneaky.error is not None
    assert "cache key does not cover: lib (" in sneaky.error and "lib.heavy (" in sneaky.error
    assert "figs/sneaky.py" in sneaky.error
    assert not (built.engine.cache_dir / "data" / "sneaky").exists()


def test_a_claim_that_does_not_hold_is_recorded_not_a_failure(built: Built) -> None:
    entry = built.results["beta"].entry
    assert entry is not None
    assert {c.name: c.holds for c in entry.claims} == {"positive": True, "huge": False}
    assert entry.claims_holding == (1, 2)
    (huge,) = entry.failed_claims
    assert huge.threshold == 1000.0 and huge.measured == entry.values["total"]


def test_a_second_build_serves_the_cache_without_workers(built: Built) -> None:
    started = time.perf_counter()
    results = build(built.engine, ["alpha", "beta"])
    assert time.perf_counter() - started < 1.5  # no worker process was started
    assert statuses(results) == {"alpha": "cached", "beta": "cached"}
    assert results[0].entry == built.results["alpha"].entry
    assert compute_runs(built.engine, "alpha") == 1
    assert {p.name: p.status for p in plan(built.engine)} == {
        "alpha": "cached",
        "beta": "cached",
        "broken": "stale",
        "slow": "stale",
        "sneaky": "stale",
    }


def test_determinism_a_forced_rebuild_gives_identical_bytes(
    project: Engine, spawned_workers: None
) -> None:
    # beta draws from the global RNG, so this also checks the worker's seeding: the
    # rebuild's worker is spawned, the first was forked (both from one forkserver would
    # share its RNG state). (alpha's recompute is compared byte for byte in the tamper test.)
    before = load_entry(project, "beta")
    (result,) = build(project, ["beta"], force=True)
    assert result.status == "computed" and result.entry is not None and before is not None
    for name in ("data.json", "spec.json", "figure.svg"):
        assert result.entry.files()[name].read_bytes() == before.files()[name].read_bytes()
    assert compute_runs(project, "beta") == 2


# ---------------------------------------------------------------- keys


def test_a_library_edit_changes_only_the_keys_of_figures_that_import_it(project: Engine) -> None:
    root = project.root
    before = keys_of(project)
    edit(root / "notes.md", "Prose", "Prose, edited")
    edit(root / "lib" / "heavy.py", "Imported only", "Only imported")  # lazy, unused by alpha
    assert keys_of(project) == before

    edit(root / "lib" / "_util.py", "round(x, 6)", "round(x, 5)")
    after = keys_of(project)
    assert after["alpha"][0] != before["alpha"][0] and after["alpha"][1] != before["alpha"][1]
    assert {n: after[n] for n in ("beta", "broken", "slow")} == {
        n: before[n] for n in ("beta", "broken", "slow")
    }

    # A comment in a library file re-renders (key) but never recomputes (data_key).
    edit(root / "lib" / "_util.py", "def rounded", "# rounds a coordinate\ndef rounded")
    commented = keys_of(project)
    assert commented["alpha"][0] != after["alpha"][0]
    assert commented["alpha"][1] == after["alpha"][1]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('caption="A noisy line."', 'caption="A noisy line, rewritten."'),
        ('title="Alpha line"', 'title="The alpha line"'),
        ("Alpha: a noisy line", "Alpha, a noisy line"),  # module docstring
        ("def compute(", "# the experiment\ndef compute("),  # a comment
        ("mark_line()", "mark_point()"),  # render
        ('encode(x="x:Q"', 'encode(x="x:O"'),  # a _chart helper only render uses
        ('op=">",\n            right=1,', 'op=">=",\n            right=2,'),  # claims
        ("len(data[", "0 + len(data["),  # values
    ],
)
def test_prose_and_render_edits_change_key_but_not_data_key(
    fake_project, old: str, new: str
) -> None:
    engine = fake_project()
    root = engine.root
    (before,) = plan(engine, ["alpha"])
    edit(root / "figs" / "alpha.py", old, new)
    (after,) = plan(engine, ["alpha"])
    assert after.key != before.key
    assert after.data_key == before.data_key


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("n: int = 6", "n: int = 7"),  # params
        ("random.Random(params.seeds[0])", "random.Random(params.seeds[0] + 1)"),  # compute
    ],
)
def test_compute_edits_change_data_key(fake_project, old: str, new: str) -> None:
    engine = fake_project()
    root = engine.root
    (before,) = plan(engine, ["alpha"])
    edit(root / "figs" / "alpha.py", old, new)
    (after,) = plan(engine, ["alpha"])
    assert after.data_key != before.data_key


def test_data_fingerprint_keeps_helpers_that_compute_shares_with_render() -> None:
    source = """
def shared(x):
    return x + 1

def compute(p):
    return {"v": shared(1)}

def render(d):
    return shared(d["v"])

FIGURE = Figure("t", "c", "a", P(), compute, render)
"""
    edited_shared = source.replace("x + 1", "x + 2")
    assert data_fingerprint(source.encode()) != data_fingerprint(edited_shared.encode())
    # Positional title/caption/render are dropped like keywords.
    retitled = source.replace('Figure("t", "c"', 'Figure("T", "C"')
    assert data_fingerprint(source.encode()) == data_fingerprint(retitled.encode())
    rerendered = source.replace('shared(d["v"])', 'shared(d["v"]) * 2')
    assert data_fingerprint(source.encode()) == data_fingerprint(rerendered.encode())


# ---------------------------------------------------------------- rebuilds


def test_a_caption_edit_rerenders_from_cached_data(project: Engine) -> None:
    old = load_entry(project, "alpha")
    assert old is not None
    edit(project.root / "figs" / "alpha.py", "A noisy line.", "A noisy line, recaptioned.")
    assert plan(project, ["alpha"])[0].status == "data-cached"
    (result,) = build(project, ["alpha"])
    assert result.status == "rendered"
    assert compute_runs(project, "alpha") == 1  # compute did not run again
    assert result.entry is not None
    assert result.entry.caption == "A noisy line, recaptioned."
    assert result.entry.meta["data_reused"] is True
    assert result.entry.data_path.read_bytes() == old.data_path.read_bytes()
    assert load_entry(project, "alpha") == result.entry


def test_a_render_crash_writes_no_entry_but_keeps_computed_data(project: Engine) -> None:
    alpha = project.root / "figs" / "alpha.py"
    edit(alpha, "n: int = 6", "n: int = 4")  # new data, so compute runs
    edit(
        alpha,
        "    return _chart_points(data).mark_line()",
        '    raise RuntimeError("render exploded")',
    )
    (stale,) = plan(project, ["alpha"])
    (result,) = build(project, ["alpha"])
    assert result.status == "failed" and result.entry is None
    assert "figs/alpha.py" in result.error and "while rendering" in result.error
    assert "RuntimeError: render exploded" in result.error
    assert not entry_dir(project, "out", "alpha", stale.key).exists()
    assert temp_leftovers(project) == []
    assert compute_runs(project, "alpha") == 2
    # Fixing render needs no recompute: the data was stored before render ran.
    edit(
        alpha,
        '    raise RuntimeError("render exploded")',
        "    return _chart_points(data).mark_point()",
    )
    assert plan(project, ["alpha"])[0].status == "data-cached"


def test_a_worker_that_dies_fails_only_its_own_figure(project: Engine) -> None:
    edit(
        project.root / "figs" / "alpha.py",
        "    return _chart_points(data).mark_line()",
        "    import os\n\n    os._exit(3)",
    )
    edit(project.root / "figs" / "beta.py", "Three random bars.", "Three bars, recaptioned.")
    results = build(project, ["alpha", "beta"], jobs=2)
    assert statuses(results) == {"alpha": "failed", "beta": "rendered"}
    assert "died without a Python error" in results[0].error
    assert "figs/alpha.py" in results[0].error
    assert temp_leftovers(project) == []


def test_tampered_or_truncated_entries_are_reported_and_rebuilt(
    project: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    original = load_entry(project, "alpha")
    assert original is not None
    spec_bytes, data_bytes = original.spec_path.read_bytes(), original.data_path.read_bytes()

    original.spec_path.write_bytes(spec_bytes.replace(b'"line"', b'"area"'))
    (planned,) = plan(project, ["alpha"])
    assert planned.status == "data-cached"  # the data entry is still good
    assert any("spec.json does not match its checksum" in p for p in planned.problems)
    with caplog.at_level(logging.WARNING, logger="symbiote_core.figures"):
        assert load_entry(project, "alpha") is None
    assert str(original.path) in caplog.text

    (result,) = build(project, ["alpha"])
    assert result.status == "rendered" and result.entry is not None
    assert result.entry.spec_path.read_bytes() == spec_bytes

    # Truncate both copies of the data: nothing trustworthy is left, so compute reruns.
    result.entry.data_path.write_bytes(data_bytes[:10])
    data_file = entry_dir(project, "data", "alpha", original.data_key) / "data.json"
    data_file.write_bytes(data_bytes[:10])
    assert plan(project, ["alpha"])[0].status == "stale"
    (again,) = build(project, ["alpha"])
    assert again.status == "computed" and again.entry is not None
    assert again.entry.data_path.read_bytes() == data_bytes  # same inputs, same bytes
    assert compute_runs(project, "alpha") == 2

    # A meta.json that does not parse is caught too (checked by plan, no build needed).
    beta = load_entry(project, "beta")
    assert beta is not None
    beta.files()["meta.json"].write_text("{")
    (planned,) = plan(project, ["beta"])
    assert planned.status == "data-cached"
    assert any("meta.json does not parse" in p for p in planned.problems)


def test_concurrent_builds_compute_a_figure_once(project: Engine) -> None:
    command = [
        sys.executable,
        "-m",
        "symbiote_core.figures",
        "--root",
        str(project.root),
        "--figures-package",
        "figs",
        "--project-packages",
        "figs,lib",
        "--cache-dir",
        str(project.cache_dir),
        "build",
        "slow",
    ]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs = [first.communicate(timeout=120)[0], second.communicate(timeout=120)[0]]
    assert first.returncode == 0 and second.returncode == 0, outputs
    assert compute_runs(project, "slow") == 1
    reported = sorted(
        "computed" if "slow: computed" in out else "cached" if "slow: cached" in out else out
        for out in outputs
    )
    assert reported == ["cached", "computed"]
    assert load_entry(project, "slow") is not None
    assert temp_leftovers(project) == []


# ---------------------------------------------------------------- cache mechanics


def test_an_interrupted_write_leaves_nothing_behind(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path)
    files = {"data.json": b"[1]", "spec.json": "not bytes"}  # the second write raises
    with pytest.raises(TypeError):
        write_entry(engine, "out", "fig", "k1", files, {"key": "k1"})  # type: ignore[dict-item]
    assert not entry_dir(engine, "out", "fig", "k1").exists()
    assert temp_leftovers(engine) == []

    first = write_entry(engine, "data", "fig", "k1", {"data.json": b"[1]"}, {"data_key": "k1"})
    # Another builder that lost the race keeps the winner's entry.
    write_entry(engine, "data", "fig", "k1", {"data.json": b"[2]"}, {"data_key": "k1"})
    assert (first / "data.json").read_bytes() == b"[1]"
    assert temp_leftovers(engine) == []


def test_prune_keeps_the_newest_entries(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path)
    for age, key in enumerate(["k4", "k3", "k2", "k1", "k0"]):
        path = write_entry(engine, "data", "fig", key, {"data.json": b"0"}, {})
        os.utime(path, (1e9 - age * 100, 1e9 - age * 100))  # k4 newest ... k0 oldest
    prune(engine, "data", "fig", current="k0")
    left = sorted(p.name for p in (engine.cache_dir / "data" / "fig").iterdir())
    assert left == ["k0", "k3", "k4"]  # the current one, plus the newest others


def test_clean_removes_one_figure(project: Engine) -> None:
    cleaned = clean(project, ["alpha"])
    assert {p.parent.parent.name for p in cleaned.removed} == {"data", "out"}
    assert {p.parent.name for p in cleaned.removed} == {"alpha"} and cleaned.left == []
    assert plan(project, ["alpha"])[0].status == "stale"
    assert load_entry(project, "beta") is not None


def test_entries_are_read_back_only_when_verified(built: Built) -> None:
    entry = built.results["alpha"].entry
    assert entry is not None
    assert read_figure_entry(built.engine, "alpha", entry.key) == entry
    assert read_figure_entry(built.engine, "alpha", "0" * 64) is None


# ---------------------------------------------------------------- registry and CLI


def test_an_unknown_figure_name_is_named_with_close_matches(built: Built) -> None:
    assert figure_names(built.engine) == ["alpha", "beta", "broken", "slow", "sneaky"]
    for call in (
        lambda: build(built.engine, ["alpah"]),
        lambda: plan(built.engine, ["alpah"]),
        lambda: load_entry(built.engine, "alpah"),
    ):
        with pytest.raises(UnknownFigureError, match=r"'alpah' \(did you mean alpha\?\).*beta"):
            call()


def run_cli(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(engine, *args), capture_output=True, text=True, timeout=120)


def test_cli_list_build_and_errors(built: Built) -> None:
    listing = run_cli(built.engine, "list")
    assert listing.returncode == 0, listing.stderr
    assert "Alpha line" in listing.stdout and "cached" in listing.stdout
    assert "stale" in listing.stdout  # slow was never built

    cached = run_cli(built.engine, "build", "alpha", "beta")
    assert cached.returncode == 0, cached.stdout + cached.stderr
    assert "alpha: cached" in cached.stdout and "1/2" in cached.stdout
    # The authoring rules' findings on what was built, as warnings (the fake figures
    # have no methods paragraph); they change no exit code.
    assert "warning: figs/alpha.py:" in cached.stdout and ": methods: " in cached.stdout

    strict = run_cli(built.engine, "build", "beta", "--strict")
    assert strict.returncode == 1
    assert "claim fails: beta.huge" in strict.stdout

    unknown = run_cli(built.engine, "build", "alpah")
    assert unknown.returncode == 2
    assert "did you mean alpha" in unknown.stderr


def test_cli_summary_exit_code_for_a_failed_figure(built: Built) -> None:
    console = Console(file=open(os.devnull, "w"), width=120)  # noqa: SIM115
    results = list(built.results.values())
    assert cli._summarise(results, strict=False, console=console) == 1
    ok = [r for r in results if r.ok]
    assert cli._summarise(ok, strict=False, console=console) == 0
    assert cli._summarise(ok, strict=True, console=console) == 1  # beta.huge fails


# ---------------------------------------------------------------- dependencies


def test_static_deps_cover_every_module_loaded_at_import(fake_project, tmp_path: Path) -> None:
    engine = fake_project()
    root = engine.root
    modules = [f"figs.{name}" for name in figure_names(engine)]
    modules += ["lib.uses_heavy", "lib.uses_attr"]
    probe = (
        "import importlib, json, sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        f"    out[name] = sorted(m.__file__ for k, m in sys.modules.items()\n"
        f"                       if k.split('.')[0] in {PACKAGES!r})\n"
        "print(json.dumps(out))\n"
    )
    for module in modules:  # one fresh interpreter per module: nothing loaded before it
        run = subprocess.run(
            [sys.executable, "-c", probe, module],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        loaded = {Path(f) for f in json.loads(run.stdout)[module]}
        static = set(module_deps(engine, module)) | {
            engine.root / Path(*module.split(".")).with_suffix(".py")
        }
        assert loaded <= static, f"{module}: loaded but not found statically: {loaded - static}"

    def rel(module: str) -> list[str]:
        return [engine.relative(p) for p in module_deps(engine, module)]

    # A function-level import counts (fmt); lib's lazy names do not, unless asked for.
    assert rel("figs.alpha") == [
        "figs/__init__.py",
        "figs/_shared.py",
        "lib/__init__.py",
        "lib/_util.py",
        "lib/curves.py",
        "lib/fmt.py",
    ]
    assert rel("figs.beta") == ["figs/__init__.py", "figs/_shared.py"]  # relative import
    # `from lib import Heavy`: the module paired with "Heavy" in lib's _export table, plus
    # the literal import inside lib.__getattr__ (it may run for any name).
    assert rel("lib.uses_heavy") == ["lib/__init__.py", "lib/heavy.py", "lib/legacy.py"]
    # `import lib` then `lib.noisy_line`: only what that one name needs.
    assert rel("lib.uses_attr") == [
        "lib/__init__.py",
        "lib/_util.py",
        "lib/curves.py",
        "lib/fmt.py",
        "lib/legacy.py",
    ]


def test_static_deps_resolve_each_import_form(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/a/__init__.py": "",
        "pkg/a/b.py": "",
        "pkg/c.py": "import importlib\nM = importlib.import_module('pkg.d')\n",
        "pkg/d.py": "",
        "pkg/e.py": "",
        "pkg/f.py": "",
        "pkg/sub/__init__.py": "",
        "pkg/sub/g.py": (
            "from .. import e\n"
            "from ..a import b\n"
            "def later():\n    import pkg.f\n"
            "import os, json  # not project modules\n"
        ),
        "pkg/top.py": "import pkg.a.b\nimport pkg.c\nfrom pkg.sub import g\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    engine = Engine(
        root=tmp_path,
        figures_package="pkg",
        project_packages=("pkg",),
        cache_dir=tmp_path / "cache",
    )
    found = [engine.relative(p) for p in module_deps(engine, "pkg.top")]
    assert found == [
        "pkg/__init__.py",
        "pkg/a/__init__.py",
        "pkg/a/b.py",
        "pkg/c.py",
        "pkg/d.py",
        "pkg/e.py",
        "pkg/f.py",
        "pkg/sub/__init__.py",
        "pkg/sub/g.py",
    ]


def test_a_module_without_a_proper_FIGURE_is_named(
    fake_project, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = fake_project()
    (engine.root / "figs" / "nofig.py").write_text("X = 1\n")
    (engine.root / "figs" / "wrongtype.py").write_text("FIGURE = 3\n")
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_figure prepends the root
    for name in ("figs", "figs.nofig", "figs.wrongtype"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(FigureDefinitionError, match=r"figs/nofig.py defines no FIGURE"):
        load_figure("nofig", engine)
    with pytest.raises(FigureDefinitionError, match=r"figs/wrongtype.py: FIGURE is a builtins.int"):
        load_figure("wrongtype", engine)
    for name in [m for m in sys.modules if m == "figs" or m.startswith("figs.")]:
        monkeypatch.delitem(sys.modules, name)


def test_planning_imports_no_figure_torch_or_altair(built: Built) -> None:
    """The MkDocs process plans on every rebuild: it must stay cheap and import-free."""
    engine = built.engine
    probe = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from symbiote_core.figures.engine.build import Engine, build, plan\n"
        f"engine = Engine(root=Path({str(engine.root)!r}), figures_package='figs',\n"
        f"                project_packages={PACKAGES!r}, cache_dir=Path({str(engine.cache_dir)!r}))\n"
        "started = time.perf_counter()\n"
        "plan(engine)\n"
        "results = build(engine, ['alpha', 'beta'])\n"
        "seconds = time.perf_counter() - started\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('torch', 'altair', 'vl_convert', 'figs', 'lib',\n"
        "                                      'mkdocs'))\n"
        "print([r.status for r in results], heavy, seconds)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("['cached', 'cached'] [] "), run.stdout
    assert float(run.stdout.split()[-1]) < 2.0  # typically ~0.05 s


def test_the_build_modules_import_each_other_without_a_cycle() -> None:
    """Arrows run one way inside `symbiote_core/figures` (imports inside functions too):
    a cycle (artifacts <-> cache once) means two modules that only work together."""
    import ast

    base = Path(__file__).resolve().parents[1] / "symbiote_core" / "figures"
    modules = {}
    for path in base.rglob("*.py"):
        parts = path.relative_to(base.parents[1]).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join((*path, name))}"
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
