"""The shared-artifact cache (`symbiote_core/figures/engine/artifacts.py`) and the build's start
order (`schedule.py`), on a throwaway project: a package with one producer module."""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from symbiote_core.figures.engine import artifacts
from symbiote_core.figures.engine.ownership import clean
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.schedule import Schedule

PRODUCER = '''
from dataclasses import dataclass
from pathlib import Path
import time

import torch

from {pkg} import helper


@dataclass(frozen=True)
class Params:
    width: int = 3
    scale: float = 0.5


def produce(params, seeds, pause=0.0):
    """Counts its calls in calls.txt, so a test sees whether it ran."""
    with open(Path(__file__).parent / "calls.txt", "a") as f:
        f.write("call\\n")
    time.sleep(pause)
    g = torch.Generator().manual_seed(seeds[0])
    w = torch.randn(params.width, 4, generator=g) * params.scale
    return {{
        "state": {{"w": w, "mask": w > 0}},
        "log": [helper.offset(s) for s in seeds],
        "pair": (1.5, None),
        "global_draw": torch.rand(2),
    }}
'''
_COUNTER = itertools.count()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Engine, object]]:
    """A package of its own name per test (imported modules stay in sys.modules)."""
    pkg = f"artproj{next(_COUNTER)}"
    folder = tmp_path / pkg
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "helper.py").write_text("def offset(s):\n    return s + 0.25\n")
    (folder / "hosts.py").write_text(PRODUCER.format(pkg=pkg))
    engine = Engine(
        root=tmp_path,
        figures_package=pkg,
        project_packages=(pkg,),
        cache_dir=tmp_path / "cache",
    )
    sys.path.insert(0, str(tmp_path))
    module = __import__(f"{pkg}.hosts", fromlist=["produce"])
    artifacts.activate(engine)
    try:
        yield engine, module
    finally:
        artifacts.deactivate()
        sys.path.remove(str(tmp_path))


def calls(engine: Engine) -> int:
    path = next(engine.root.glob("artproj*/calls.txt"), None)
    return len(path.read_text().splitlines()) if path else 0


def entries(engine: Engine, name: str = "hosts") -> list[Path]:
    folder = engine.cache_dir / "artifacts" / name
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def same(a: object, b: object) -> bool:
    """Equal trees, tensors bit for bit and of the same dtype."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)  # type: ignore[arg-type]
            and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[call-overload]
        )
    return a == b


def test_miss_then_hit_gives_the_same_tree(project) -> None:
    engine, mod = project
    first = artifacts.cached("hosts", mod.produce, mod.Params(), (3, 4))
    assert calls(engine) == 1 and len(entries(engine)) == 1
    second = artifacts.cached("hosts", mod.produce, mod.Params(), (3, 4))
    assert calls(engine) == 1, "a hit must not run the producer"
    assert same(first, second)
    assert isinstance(second["pair"], tuple) and second["state"]["mask"].dtype == torch.bool
    assert not artifacts.deactivate()  # no problem found


def test_inactive_cache_just_computes_the_same_value(project) -> None:
    engine, mod = project
    cached = artifacts.cached("hosts", mod.produce, mod.Params(), (3,))
    artifacts.deactivate()
    plain = artifacts.cached("hosts", mod.produce, mod.Params(), (3,))
    assert calls(engine) == 2 and len(entries(engine)) == 1
    assert same(cached, plain)


def test_producer_draws_from_seeded_globals_and_leaves_the_callers_rng(project) -> None:
    engine, mod = project
    torch.manual_seed(123)
    miss = artifacts.cached("hosts", mod.produce, mod.Params(), (5,))
    after_miss = torch.rand(3)
    torch.manual_seed(999)  # another caller state: the producer's draws must not follow it
    artifacts.cached("hosts", mod.produce, mod.Params(), (5,), 0.0)  # other args: a miss
    torch.manual_seed(123)
    hit = artifacts.cached("hosts", mod.produce, mod.Params(), (5,))
    after_hit = torch.rand(3)
    assert calls(engine) == 2
    assert torch.equal(after_miss, after_hit), "the caller's RNG must not see a hit or a miss"
    other = entries(engine)
    assert len(other) == 2
    assert same(miss, hit)


def test_key_changes_with_args(project) -> None:
    engine, mod = project
    key = lambda *args: artifacts.artifact_key(engine, "hosts", mod.produce, args)[0]  # noqa: E731
    base = key(mod.Params(), (3, 4))
    assert key(mod.Params(), (3, 4)) == base
    assert key(mod.Params(), (3, 5)) != base
    assert key(mod.Params(), [3, 4]) != base  # a list is not a tuple
    assert key(mod.Params(width=4), (3, 4)) != base
    assert key(mod.Params(scale=0.5 + 2**-40), (3, 4)) != base  # floats exactly
    with pytest.raises(artifacts.ArtifactError, match="cannot be part of a key"):
        key(object())


def test_key_changes_with_the_source_of_the_module_and_its_imports(project) -> None:
    engine, mod = project
    key = lambda: artifacts.artifact_key(engine, "hosts", mod.produce, (mod.Params(), (3,)))  # noqa: E731
    base, meta = key()
    assert set(meta["sources"]) == {
        f"{engine.figures_package}/{f}" for f in ("__init__.py", "hosts.py", "helper.py")
    }
    hosts = engine.figures_dir / "hosts.py"
    hosts.write_text(hosts.read_text() + "\n# an edit\n")
    edited, _ = key()
    assert edited != base
    helper = engine.figures_dir / "helper.py"
    helper.write_text(helper.read_text().replace("0.25", "0.5"))
    assert key()[0] not in (base, edited)


def test_producer_must_be_a_top_level_project_function(project) -> None:
    with pytest.raises(artifacts.ArtifactError, match="top-level function"):
        artifacts.cached("hosts", lambda: {}, ())
    with pytest.raises(artifacts.ArtifactError, match="top-level function"):
        artifacts.cached("hosts", json.dumps, ())


def test_corrupt_entry_is_reported_once_removed_and_recomputed(project, caplog) -> None:
    engine, mod = project
    first = artifacts.cached("hosts", mod.produce, mod.Params(), (3,))
    (entry,) = entries(engine)
    tensors = entry / artifacts.TENSORS
    payload = bytearray(tensors.read_bytes())
    payload[-1] ^= 0xFF
    tensors.write_bytes(bytes(payload))
    with caplog.at_level(logging.WARNING, logger="symbiote_core.figures"):
        again = artifacts.cached("hosts", mod.produce, mod.Params(), (3,))
    assert calls(engine) == 2, "a corrupt entry must be recomputed, never served"
    assert same(first, again)
    warnings = [r for r in caplog.records if "does not match its checksum" in r.getMessage()]
    assert len(warnings) == 1
    assert artifacts.artifact_key(engine, "hosts", mod.produce, (mod.Params(), (3,)))[0] in str(
        warnings[0].getMessage()
    )
    # Rewritten whole: the next call is a hit again.
    artifacts.cached("hosts", mod.produce, mod.Params(), (3,))
    assert calls(engine) == 2
    problems = artifacts.deactivate()
    assert len(problems) == 1 and "tensors.safetensors does not match" in problems[0]


def test_two_processes_wanting_the_same_artifact_produce_it_once(project) -> None:
    engine, mod = project
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(engine.root)!r})
        from symbiote_core.figures.engine import artifacts
        from symbiote_core.figures.engine.registry import Engine
        from {mod.__name__.split(".")[0]} import hosts
        engine = Engine(root={str(engine.root)!r}, figures_package={engine.figures_package!r},
                        project_packages=({engine.figures_package!r},),
                        cache_dir={str(engine.cache_dir)!r})
        artifacts.activate(engine)
        tree = artifacts.cached("hosts", hosts.produce, hosts.Params(), (7,), 2.0)
        print(json.dumps(tree["state"]["w"].tolist()))
        """
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    assert calls(engine) == 1, "the second process must wait for the first and read its entry"
    assert outputs[0] == outputs[1]


def test_clean_drops_artifacts(project) -> None:
    engine, mod = project
    artifacts.cached("hosts", mod.produce, mod.Params(), (3,))
    removed = clean(engine).removed
    assert [p.parent for p in removed] == [engine.cache_dir / "artifacts" / "hosts"]
    assert not entries(engine)


def test_a_figure_named_like_an_artifact_keeps_its_temp_files(project) -> None:
    """A figure worker clears its own leftovers in tmp/, never an artifact's."""
    from symbiote_core.figures.engine.cache import clear_temp

    engine, _ = project
    leftover = engine.cache_dir / "tmp" / "hosts.artifacts.abc"
    leftover.mkdir(parents=True)
    clear_temp(engine, "hosts")
    assert leftover.is_dir()


# ------------------------------------------------------------------ schedule


def test_schedule_starts_the_longest_first() -> None:
    schedule = Schedule(seconds={"a": 5.0, "b": 50.0, "c": 5.0})
    assert schedule.order(["a", "c", "b", "d"]) == ["b", "a", "c", "d"]


def test_schedule_keeps_figures_of_an_unbuilt_artifact_apart() -> None:
    groups = {"m1": frozenset({"_m.py"}), "m2": frozenset({"_m.py"}), "x": frozenset()}
    schedule = Schedule(seconds={"m1": 9, "m2": 8, "x": 1}, groups=groups)
    pending = schedule.order(groups)
    assert pending == ["m1", "m2", "x"]
    assert schedule.pick(pending, running=[]) == 0
    pending.pop(0)  # m1 runs: m2 would wait on its artifact, x goes first
    assert pending[schedule.pick(pending, running=["m1"])] == "x"
    assert schedule.pick(["m2"], running=["m1"]) == 0, "never idle while a figure is pending"
    schedule.finished("m1")  # m1 is done, so its artifacts exist
    assert schedule.pick(pending, running=[]) == 0


def test_a_url_cache_holds_artifacts_like_a_folder(project, tmp_path: Path) -> None:
    """Artifacts go through the engine's storage, so a cache at an fsspec URL (shared by
    cluster workers) stores, serves, refuses a torn entry and cleans them too."""
    from dataclasses import replace

    local, mod = project
    url_root = tmp_path / "url-cache"
    engine = replace(local, cache_dir=url_root.as_uri())
    artifacts.activate(engine)
    first = artifacts.cached("hosts", mod.produce, mod.Params(), (3, 4))
    second = artifacts.cached("hosts", mod.produce, mod.Params(), (3, 4))
    assert calls(local) == 1 and same(first, second)
    (entry,) = [p for p in (url_root / "artifacts" / "hosts").iterdir() if p.is_dir()]
    tensors = entry / "tensors.safetensors"
    tensors.write_bytes(tensors.read_bytes()[:-1] + b"\0")  # one flipped byte
    third = artifacts.cached("hosts", mod.produce, mod.Params(), (3, 4))
    assert calls(local) == 2, "a corrupt entry must be recomputed, not served"
    assert same(first, third)
    assert len(artifacts.deactivate()) == 1  # reported once
    assert clean(engine).removed and not (url_root / "artifacts" / "hosts").exists()
