"""Figure jobs on a Dask cluster, and the figure cache at an fsspec URL.

A local Dask cluster of two worker processes builds a small project into a cache at a
`file://` URL (fsspec's local file system, reached through its URL: `memory://` is per
process, so workers could not share it); its figures must be bit-for-bit those of the
local process pool. The figures read exactly the process state a worker pins (hash
seed, thread count, seeded global RNGs, deterministic kernels), so a cluster worker
that ran a figure in its own long-lived process would produce other bytes. The storage
layer itself is tested in-process on `memory://`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from symbiote_core.figures.engine.build import BuildResult, build, plan
from symbiote_core.figures.engine.cache import (
    META,
    CorruptEntryError,
    read_data_entry,
    read_figure_entry,
    read_stored_entry,
    write_entry,
)
from symbiote_core.figures.engine.cluster import SCHEDULER_ENV, resolve_scheduler
from symbiote_core.figures.engine.registry import Engine, FigureError
from symbiote_core.figures.engine.storage import FsspecStorage, storage_for

pytest.importorskip("distributed")

STATE = '''"""Reads the process state a figure worker pins."""

import os
import random
import sys
from dataclasses import dataclass

import altair as alt
import torch

from symbiote_core.figures.authoring.spec import Figure, Value


@dataclass(frozen=True)
class Params:
    seed: int = 5


def compute(params: Params) -> dict:
    words = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
    return {
        "set_order": list(words),  # the order follows PYTHONHASHSEED
        "hash": hash("symbiote"),
        "random": random.random(),  # the global RNG, seeded by the worker
        "torch": torch.rand(4).tolist(),
        "threads": torch.get_num_threads(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "omp": os.environ.get("OMP_NUM_THREADS"),
        "hash_randomization": sys.flags.hash_randomization,
    }


def render(data: dict) -> alt.Chart:
    rows = [{"i": i, "v": v} for i, v in enumerate(data["torch"])]
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(x="i:O", y="v:Q")


FIGURE = Figure(
    title="Process state",
    caption="What the worker pinned.",
    alt="Four bars.",
    params=Params(),
    compute=compute,
    render=render,
    values={"random": Value("a random number", lambda data: data["random"])},
)
'''

LINE = '''"""A trivial line from its own seeded RNG."""

import random
from dataclasses import dataclass

import altair as alt

from symbiote_core.figures.authoring.spec import Figure, Value


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (1, 2, 3)


def compute(params: Params) -> dict:
    return {"ys": [random.Random(s).random() for s in params.seeds]}


def render(data: dict) -> alt.Chart:
    rows = [{"x": i, "y": y} for i, y in enumerate(data["ys"])]
    return alt.Chart(alt.Data(values=rows)).mark_line().encode(x="x:Q", y="y:Q")


FIGURE = Figure(
    title="Line",
    caption="Three points.",
    alt="A line.",
    params=Params(),
    tuning_seeds=(),
    tuning_note="a test fixture: nothing was tuned",
    compute=compute,
    render=render,
    values={"first": Value("the first y", lambda data: data["ys"][0])},
)
'''

BROKEN = '''"""Compute raises, on a line the report must name."""

from dataclasses import dataclass

from symbiote_core.figures.authoring.spec import Figure, Value


@dataclass(frozen=True)
class Params:
    pass


def compute(params: Params) -> dict:
    raise ValueError("broken on purpose")  # line 13


FIGURE = Figure(
    title="Broken", caption="Never drawn.", alt="Nothing.", params=Params(),
    compute=compute, render=lambda data: None,
)
'''

FIGURES = ("line", "state")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cluster") / "project"
    figs = root / "figs"
    figs.mkdir(parents=True)
    (figs / "__init__.py").write_text("")
    for name, source in (("state", STATE), ("line", LINE), ("broken", BROKEN)):
        (figs / f"{name}.py").write_text(textwrap.dedent(source))
    return root


def engine_at(root: Path, cache: Path | str) -> Engine:
    return Engine(root=root, figures_package="figs", project_packages=("figs",), cache_dir=cache)


def recorder() -> tuple[list[tuple[str, str, dict]], object]:
    events: list[tuple[str, str, dict]] = []

    def on_event(name: str, kind: str, info: dict) -> None:
        events.append((name, kind, info))

    return events, on_event


def files_of(result: BuildResult) -> dict[str, bytes]:
    assert result.entry is not None, result.error
    return {name: result.entry.payloads[name] for name in ("data.json", "spec.json", "figure.svg")}


@pytest.fixture(scope="module")
def both_builds(project: Path, tmp_path_factory: pytest.TempPathFactory):
    """The same project built by the local pool and by a 2-process Dask cluster."""
    local = engine_at(project, tmp_path_factory.mktemp("local-cache"))
    local_results = build(local, list(FIGURES), jobs=2)
    url = (tmp_path_factory.mktemp("shared-cache") / "figures").as_uri()
    assert url.startswith("file://")
    remote = engine_at(project, url)
    events, on_event = recorder()
    remote_results = build(remote, [*FIGURES, "broken"], on_event=on_event, scheduler="local:2")
    return local, local_results, remote, remote_results, events


def test_cluster_build_is_bit_identical_to_the_local_build(both_builds) -> None:
    _, local_results, remote, remote_results, _ = both_builds
    remote_by_name = {r.name: r for r in remote_results}
    for result in local_results:
        assert result.status == "computed", result.error
        other = remote_by_name[result.name]
        assert other.status == "computed", other.error
        assert files_of(other) == files_of(result), result.name
        assert other.entry.values == result.entry.values
        assert isinstance(other.entry.path, str) and other.entry.path.startswith("file://")
    state = json.loads(remote_by_name["state"].entry.payloads["data.json"])
    # The pinned state the bytes above depend on, as a worker on the cluster saw it.
    assert state["threads"] == 1 and state["deterministic"] is True
    assert state["omp"] == "1" and state["hash_randomization"] == 0
    # And the cache at the URL holds committed entries that a fresh plan accepts.
    assert {p.name: p.status for p in plan(remote, list(FIGURES))} == dict.fromkeys(
        FIGURES, "cached"
    )


def test_cluster_reports_progress_and_one_error_with_file_and_line(both_builds) -> None:
    _, _, _, remote_results, events = both_builds
    by_name = {r.name: r for r in remote_results}
    assert by_name["broken"].status == "failed"
    error = by_name["broken"].error or ""
    assert "figs/broken.py" in error and "line 13" in error and "broken on purpose" in error
    for name in (*FIGURES, "broken"):
        kinds = [kind for n, kind, _ in events if n == name]
        final = "failed" if name == "broken" else "done"
        assert kinds == ["start", final], (name, kinds)  # once each, in order
    failures = [info["error"] for n, kind, info in events if kind == "failed"]
    assert len(failures) == 1


def test_a_second_cluster_build_is_cached(both_builds) -> None:
    _, _, remote, _, _ = both_builds
    events, on_event = recorder()
    results = build(remote, list(FIGURES), on_event=on_event, scheduler="local:2")
    assert [r.status for r in results] == ["cached", "cached"]
    assert not [e for e in events if e[1] == "start"]  # planning found them: no cluster job


def test_partial_or_corrupt_remote_entry_is_never_served(project: Path, tmp_path: Path) -> None:
    url = (tmp_path / "cache").as_uri()
    engine = engine_at(project, url)
    [first] = build(engine, ["line"])
    assert first.status == "computed", first.error
    store = storage_for(engine)
    rel = f"out/line/{first.entry.key}"
    good = {name: store.read_bytes(f"{rel}/{name}") for name in store.listdir(rel)}

    # An entry still being written (or abandoned): payload without its marker. Absent.
    store.remove(rel)
    for name, payload in good.items():
        if name != META:
            store.write_atomic(f"{rel}/{name}", payload)
    assert read_figure_entry(engine, "line", first.entry.key) is None
    assert plan(engine, ["line"])[0].status == "data-cached"

    # A committed entry whose payload changed: detected, reported once, rebuilt.
    store.write_atomic(f"{rel}/{META}", good[META])
    store.write_atomic(f"{rel}/data.json", good["data.json"].replace(b"0.", b"1.", 1))
    with pytest.raises(CorruptEntryError, match=r"data\.json does not match its checksum"):
        read_figure_entry(engine, "line", first.entry.key)
    events, on_event = recorder()
    [again] = build(engine, ["line"], on_event=on_event)
    assert [kind for _, kind, _ in events].count("corrupt") == 1
    assert again.status == "rendered", again.error  # its data entry was intact
    assert files_of(again) == files_of(first)


def test_scheduler_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    assert resolve_scheduler(None) == "local"
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://10.0.0.1:8786")
    assert resolve_scheduler(None) == "tcp://10.0.0.1:8786"
    assert resolve_scheduler("local:3") == "local:3"  # the argument wins
    for bad in ("local:0", "locale", "8786"):
        with pytest.raises(FigureError, match="scheduler"):
            resolve_scheduler(bad)


# ----------------------------------------------------------- the storage layer


def test_memory_storage_commits_once_and_hides_uncommitted(tmp_path: Path) -> None:
    store = FsspecStorage("memory://symbiote-test-commit", tmp_path)
    assert store.listdir("") == []
    assert store.commit_folder("out/f/k", {"a.json": b"1"}, META, b"{}", replace=False)
    assert not store.commit_folder("out/f/k", {"a.json": b"2"}, META, b"{}", replace=False)
    assert store.read_bytes("out/f/k/a.json") == b"1"  # write-once: the first is kept
    assert store.commit_folder("out/f/k", {"a.json": b"3"}, META, b"{}", replace=True)
    assert store.read_bytes("out/f/k/a.json") == b"3"
    assert store.listdir("out/f") == ["k"] and store.listdir("out/f/k") == ["a.json", META]
    store.write_atomic("out/f/half/a.json", b"x")
    assert not store.committed("out/f/half", META) and store.committed("out/f/k", META)
    store.remove("out/f")
    assert not store.exists("out/f/k/a.json") and store.listdir("out") == []
    with pytest.raises(FileNotFoundError):
        store.read_bytes("out/f/k/a.json")


def test_memory_cache_roundtrip_and_torn_marker() -> None:
    engine = Engine(root=Path.cwd(), cache_dir="memory://symbiote-test-cache")
    meta = {
        "name": "fig",
        "data_key": "k1",
        "module": "figures_src/fig.py",
        "deps": [],
        "params": {},
        "seeds": [0],
        "versions": {},
        "git": "unknown",
        "compute_seconds": 0.1,
        "created": "2025-01-01T00:00:00+00:00",
        "engine_format": 1,
    }
    where = write_entry(engine, "data", "fig", "k1", {"data.json": b"[1,2]"}, meta)
    assert where == "memory://symbiote-test-cache/data/fig/k1"
    entry = read_data_entry(engine, "fig", "k1")
    assert entry is not None and entry.raw == b"[1,2]" and json.loads(entry.raw) == [1, 2]
    store = storage_for(engine)
    marker = store.read_bytes("data/fig/k1/meta.json")
    store.write_atomic("data/fig/k1/meta.json", marker[: len(marker) // 2])  # torn
    with pytest.raises(CorruptEntryError, match=r"meta\.json does not parse"):
        read_stored_entry(store, "data/fig/k1", ("data.json",))
    edited = json.loads(marker)
    edited["git"] = "tampered"  # parses, but no longer matches its own checksum
    store.write_atomic("data/fig/k1/meta.json", json.dumps(edited).encode())
    with pytest.raises(CorruptEntryError, match="its own checksum"):
        read_data_entry(engine, "fig", "k1")
    store.remove("data/fig/k1/meta.json")
    assert read_data_entry(engine, "fig", "k1") is None  # uncommitted: absent, not served
    store.remove("")
