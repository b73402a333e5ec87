"""Citable versions: a release records its build; each version says what changed since.

`figures release VERSION` (after `figures build`) writes `<releases>/<VERSION>.json`: the
version, its date and git revision, and the build's manifest (`diff.manifest`: every
figure's keys, values per seed and claim verdicts). Committed with a tag `vVERSION`, it
is the record a reader's citation points to. The site lists the versions with what
changed from one to the next (`changes`), and `figures freeze SITE` rebuilds each
release's own site from its revision into `SITE/v/<VERSION>/` (builds are
byte-reproducible and figures come from the cache, so a frozen version is the essay as
it was, not a screenshot of it).

A value counts as changed when its mean moved by more than its spread over seeds (the
larger sample standard deviation of the two builds; any move for a constant), so
seed noise between two equivalent builds is not reported as a change; a verdict
counts whenever it differs.
"""

from __future__ import annotations

import datetime
import json
import statistics
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symbiote_core.figures.engine.diff import manifest
from symbiote_core.figures.engine.plan import git_revision
from symbiote_core.figures.engine.registry import Engine, FigureError

RELEASES = Path("essay") / "releases"
"""Where release records live, relative to the root (inside the docs, so the site can
link the JSON)."""
RELEASE_FORMAT = 1


@dataclass(frozen=True)
class Release:
    version: str
    date: str
    revision: str
    manifest: Mapping[str, Any]

    def to_json(self) -> str:
        record = {
            "format": RELEASE_FORMAT,
            "version": self.version,
            "date": self.date,
            "revision": self.revision,
            "manifest": self.manifest,
        }
        return json.dumps(record, indent=1, sort_keys=True) + "\n"


@dataclass(frozen=True)
class Change:
    figure: str
    item: str
    """A value or claim name; "" for the figure itself (added or removed)."""
    kind: str
    """"value", "verdict", "added" or "removed"."""
    before: str
    after: str


def release(engine: Engine, version: str, date: datetime.date | None = None) -> Path:
    """Record the current build as `version`; refuses an unbuilt figure or a dirty tree."""
    if not version or not all(part.isdigit() for part in version.split(".")):
        raise FigureError(f"a version is numbers separated by dots (0.2, 1.0.1), not {version!r}")
    revision = git_revision(engine.root)
    if revision == "unknown" or revision.endswith("-dirty"):
        raise FigureError(
            f"release {version}: commit first (the working tree is {revision}); a release "
            "names the revision whose sources it was built from"
        )
    built = manifest(engine)
    missing = sorted(name for name, record in built["figures"].items() if not record["built"])
    if missing:
        raise FigureError(f"release {version}: build first; not built: {', '.join(missing)}")
    path = engine.root / RELEASES / f"{version}.json"
    if path.exists():
        raise FigureError(f"release {version} exists already ({engine.relative(path)})")
    day = (date or datetime.date.today()).isoformat()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(Release(version, day, revision, built).to_json(), encoding="utf-8")
    return path


def load_releases(root: Path) -> list[Release]:
    """Every release record under `root`, oldest first (by version number)."""
    releases = []
    for path in sorted((root / RELEASES).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != RELEASE_FORMAT:
            raise FigureError(f"{path}: not a release record of format {RELEASE_FORMAT}")
        releases.append(Release(data["version"], data["date"], data["revision"], data["manifest"]))
    return sorted(releases, key=lambda r: tuple(int(p) for p in r.version.split(".")))


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """What moved between two manifests: figures added or removed, values whose mean
    moved beyond their seed spread, and every verdict that differs."""
    old, new = before.get("figures", {}), after.get("figures", {})
    out: list[Change] = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            out.append(Change(name, "", "removed", "present", "absent"))
            continue
        if name not in old:
            out.append(Change(name, "", "added", "absent", "present"))
            continue
        a, b = old[name], new[name]
        for value in sorted(set(a.get("values", {})) & set(b.get("values", {}))):
            moved = _moved(a["values"][value], b["values"][value])
            if moved is not None:
                out.append(Change(name, value, "value", *moved))
        verdicts_a = {k: v["verdict"] for k, v in a.get("claims", {}).items()}
        verdicts_b = {k: v["verdict"] for k, v in b.get("claims", {}).items()}
        for claim in sorted(set(verdicts_a) | set(verdicts_b)):
            was, now = verdicts_a.get(claim, "absent"), verdicts_b.get(claim, "absent")
            if was != now:
                out.append(Change(name, claim, "verdict", was, now))
    return out


def _moved(before: Any, after: Any) -> tuple[str, str] | None:
    a = [float(v) for v in before] if isinstance(before, list) else [float(before)]
    b = [float(v) for v in after] if isinstance(after, list) else [float(after)]
    mean_a, mean_b = statistics.fmean(a), statistics.fmean(b)
    spread = max(_sd(a), _sd(b))
    if abs(mean_b - mean_a) <= spread or mean_a == mean_b:
        return None
    return _show(mean_a, a), _show(mean_b, b)


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _show(mean: float, values: list[float]) -> str:
    return f"{mean:.4g} ± {_sd(values):.2g}" if len(values) > 1 else f"{mean:.4g}"


def freeze(engine: Engine, site: Path, base_url: str = "") -> list[Path]:
    """Build each release's own site from its revision into `site/v/<version>/`."""
    import os
    import tempfile

    built = []
    for item in load_releases(engine.root):
        target = (site / "v" / item.version).resolve()
        with tempfile.TemporaryDirectory(prefix="symbiote-freeze-") as scratch:
            tree = Path(scratch) / "tree"
            _git(engine.root, "worktree", "add", "--detach", str(tree), item.revision)
            try:
                env = dict(os.environ)
                env["SYMBIOTE_FIGURE_CACHE"] = str(engine.cache_dir)
                env["NO_MKDOCS_2_WARNING"] = "1"
                env["SITE_URL"] = f"{base_url.rstrip('/')}/v/{item.version}/" if base_url else ""
                run = subprocess.run(
                    [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
                    cwd=tree,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if run.returncode != 0:
                    raise FigureError(
                        f"freezing version {item.version} ({item.revision}) failed:\n"
                        f"{run.stderr[-4000:]}"
                    )
            finally:
                _git(engine.root, "worktree", "remove", "--force", str(tree))
        built.append(target)
    return built


def _git(root: Path, *args: str) -> None:
    run = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if run.returncode != 0:
        raise FigureError(f"git {' '.join(args)}: {run.stderr.strip()}")
