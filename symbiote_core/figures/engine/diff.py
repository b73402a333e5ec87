"""What changed in every figure's values and claim verdicts between two builds.

A build is summarised as a *manifest*: per figure, its keys, its values and its claims'
verdicts, read from verified cache entries. `figures manifest` saves one as JSON;
`figures diff` compares the working tree's build with a saved manifest, or with a git
revision: that revision's project packages are extracted (`git archive`) into a
temporary folder, their keys computed by the same planning code, and their entries
looked up in the same cache (so a revision whose figures were never built here, or were
pruned, shows as "not in cache": build it, or compare against its saved manifest).
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from symbiote_core.figures.engine.build import plan
from symbiote_core.figures.engine.cache import CorruptEntryError, read_figure_entry
from symbiote_core.figures.engine.registry import Engine, FigureError

MANIFEST_FORMAT = 1


def manifest(engine: Engine) -> dict[str, Any]:
    """The build of `engine`'s sources as a manifest (figures whose entry is missing or
    corrupt are listed with `"built": false`)."""
    figures: dict[str, Any] = {}
    for item in plan(engine):
        record: dict[str, Any] = {"key": item.key, "data_key": item.data_key, "built": False}
        try:
            entry = read_figure_entry(engine, item.name, item.key)
        except CorruptEntryError:
            entry = None
        if entry is not None:
            record["built"] = True
            record["values"] = entry.values
            record["claims"] = {
                claim.name: {"verdict": claim.verdict, "statistic": claim.real.statistic}
                for claim in entry.claims
            }
        figures[item.name] = record
    return {"format": MANIFEST_FORMAT, "figures": figures}


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise FigureError(f"cannot read manifest {path}: {error}") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise FigureError(f"{path} is not a figure manifest of format {MANIFEST_FORMAT}")
    return data


def revision_manifest(engine: Engine, revision: str) -> dict[str, Any]:
    """The manifest of `revision`'s sources against this engine's cache."""
    with tempfile.TemporaryDirectory(prefix="figures-diff-") as folder:
        root = Path(folder)
        _extract(engine, revision, root)
        other = replace(engine, root=root, cache_dir=engine.cache_dir)
        if not other.figures_dir.is_dir():
            raise FigureError(f"revision {revision!r} has no {engine.figures_package} package")
        return manifest(other)


def revision_keys(engine: Engine, revision: str) -> dict[str, str]:
    """Each figure's rendered-entry key at `revision` (computed from its sources)."""
    with tempfile.TemporaryDirectory(prefix="figures-diff-") as folder:
        root = Path(folder)
        _extract(engine, revision, root)
        other = replace(engine, root=root, cache_dir=engine.cache_dir)
        if not other.figures_dir.is_dir():
            raise FigureError(f"revision {revision!r} has no {engine.figures_package} package")
        return {item.name: item.key for item in plan(other)}


def _git(engine: Engine, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=engine.root, capture_output=True, timeout=120)


def _extract(engine: Engine, revision: str, target: Path) -> None:
    prefix = _git(engine, "rev-parse", "--show-prefix")
    if prefix.returncode != 0:
        raise FigureError(f"{engine.root} is not in a git repository: cannot diff a revision")
    tree = f"{revision}:{prefix.stdout.decode().strip()}"
    for package in dict.fromkeys(p.split(".")[0] for p in engine.project_packages):
        run = _git(engine, "archive", "--format=tar", tree, "--", package)
        if run.returncode != 0:
            if _git(engine, "rev-parse", "--verify", f"{revision}^{{commit}}").returncode:
                raise FigureError(f"unknown git revision {revision!r}")
            continue  # the package does not exist at that revision
        with tarfile.open(fileobj=io.BytesIO(run.stdout)) as archive:
            archive.extractall(target, filter="data")


@dataclass(frozen=True)
class Change:
    figure: str
    item: str
    """A value or claim name, or "" for the figure itself."""
    before: str
    after: str


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every difference between two manifests, figure by figure, in name order."""
    old, new = before["figures"], after["figures"]
    changes: list[Change] = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None or b is None:
            changes.append(Change(name, "", _state(a), _state(b)))
            continue
        if not (a["built"] and b["built"]):
            if a["built"] != b["built"] or a["key"] != b["key"]:
                changes.append(Change(name, "", _state(a), _state(b)))
            continue
        for value in sorted(set(a["values"]) | set(b["values"])):
            x, y = a["values"].get(value), b["values"].get(value)
            if x != y:
                changes.append(Change(name, value, _value(x), _value(y)))
        for claim in sorted(set(a["claims"]) | set(b["claims"])):
            x, y = a["claims"].get(claim), b["claims"].get(claim)
            if (x or {}).get("verdict") != (y or {}).get("verdict"):  # the gap alone: noise
                changes.append(Change(name, f"claim {claim}", _claim(x), _claim(y)))
    return changes


def _state(record: Mapping[str, Any] | None) -> str:
    if record is None:
        return "absent"
    return "built" if record["built"] else "not in cache"


def _value(value: Any) -> str:
    if value is None:
        return "absent"
    if isinstance(value, list):
        mean = statistics.fmean(value)
        sd = statistics.stdev(value) if len(value) > 1 else 0.0
        return f"{mean:.4g} ± {sd:.2g} ({len(value)} seeds)"
    return f"{value:.6g}"


def _claim(claim: Mapping[str, Any] | None) -> str:
    if claim is None:
        return "absent"
    return f"{claim['verdict']} (gap {claim['statistic']:.3g})"


def markdown_table(changes: list[Change], against: str) -> str:
    """The changes as a Markdown table (for a pull request comment)."""
    if not changes:
        return f"No figure value or claim verdict differs from {against}.\n"
    lines = [
        f"Figure changes against {against}:",
        "",
        "| figure | value or claim | before | after |",
        "|---|---|---|---|",
    ]
    for change in changes:
        cells = [change.figure, change.item or "(figure)", change.before, change.after]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
