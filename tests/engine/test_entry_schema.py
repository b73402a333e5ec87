"""One schema for a cache entry's metadata (`cache.EntryMeta`), and a spec module that
imports nothing of the engine (issue 10, the engine's inner shape)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from symbiote_core.figures.engine.cache import (
    META_SUM,
    CorruptEntryError,
    EntryMeta,
    meta_checksum,
    read_figure_entry,
    write_entry,
)
from symbiote_core.figures.engine.registry import Engine

META = EntryMeta(
    name="fig",
    key="k" * 64,
    data_key="d" * 64,
    module="figs/fig.py",
    deps=("lib/a.py",),
    params={"seeds": [0, 1]},
    seeds=(0, 1),
    versions={"python": "CPython 3.11"},
    git="abc1234",
    compute_seconds=1.5,
    created="2026-12-01T00:00:00+00:00",
    engine_format=3,
    title="A figure",
    caption="Its caption.",
    alt="Its alt text.",
    values={"v": [1.0, 2.0]},
    claims=(),
    render_seconds=0.25,
    data_reused=False,
)
FILES = {"spec.json": b"{}", "data.json": b"{}", "figure.svg": b"<svg/>"}


def engine(tmp_path: Path) -> Engine:
    (tmp_path / "figs").mkdir()
    return Engine(root=tmp_path, figures_package="figs", cache_dir=tmp_path / "cache")


def test_the_writer_and_the_reader_share_the_schema(tmp_path: Path) -> None:
    e = engine(tmp_path)
    write_entry(e, "out", "fig", META.key, FILES, META)
    entry = read_figure_entry(e, "fig", META.key)
    assert entry is not None
    assert isinstance(entry.meta, EntryMeta)
    assert entry.meta.deps == ("lib/a.py",) and entry.meta.seeds == (0, 1)
    assert entry.meta.render_seconds == 0.25 and entry.values == {"v": [1.0, 2.0]}
    # As a mapping it is meta.json as stored (lists, checksums included).
    stored = json.loads((entry.path / "meta.json").read_text())
    assert dict(entry.meta) == stored
    assert entry.meta["seeds"] == [0, 1] and entry.meta.get("nope") is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m: m.pop("render_seconds"), "lacks 'render_seconds'"),
        (lambda m: m.update(surprise=1), "unknown field 'surprise'"),
        (lambda m: m.update(values=[1, 2]), "field 'values' is a list"),
        (lambda m: m.update(title=None), "field 'title' is a NoneType"),
    ],
)
def test_a_stored_meta_that_breaks_the_schema_is_corrupt(
    tmp_path: Path, change, problem: str
) -> None:
    e = engine(tmp_path)
    folder = write_entry(e, "out", "fig", META.key, FILES, META)
    meta = json.loads((folder / "meta.json").read_text())
    change(meta)
    meta[META_SUM] = meta_checksum(meta)  # a consistent checksum: only the schema can tell
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptEntryError, match=problem):
        read_figure_entry(e, "fig", META.key)


def test_importing_the_spec_loads_no_build_cache_or_lock_code() -> None:
    probe = (
        "import sys\n"
        "import symbiote_core.figures.authoring.spec\n"
        "print(sorted(m for m in sys.modules if m.startswith('symbiote_core.figures.')\n"
        "             or m.split('.')[0] in ('filelock', 'rich', 'mkdocs', 'torch', 'altair')))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    loaded = run.stdout.strip()
    authoring = ["authoring", "authoring.inputs", "authoring.spec"]  # the declaration types
    assert loaded == str([f"symbiote_core.figures.{m}" for m in authoring])
