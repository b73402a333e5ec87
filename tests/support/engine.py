"""The fake project engine tests build (`tests/fixtures/figure_project`): tiny figures
without torch in `figs/`, a library in `lib/`, each figure counting its computes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from symbiote_core.figures.engine.registry import Engine

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "figure_project"
PACKAGES = ("figs", "lib")


def fake_engine(root: Path) -> Engine:
    """The engine of a fake project at `root`. The cache is explicit: a
    SYMBIOTE_FIGURE_CACHE in the environment must not leak in."""
    return Engine(
        root=root,
        figures_package="figs",
        project_packages=PACKAGES,
        cache_dir=root / ".cache" / "figures",
    )


def copy_fake_project(target: Path, source: Path = FIXTURE) -> Engine:
    """A private copy of the fake project (or of `source`, a built one) at `target`."""
    shutil.copytree(source, target)
    return fake_engine(target)


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in the file with `new`; `old` must be there."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def cli_args(engine: Engine, *args: str) -> list[str]:
    """`python -m symbiote_core.figures` arguments that point at `engine`'s project."""
    return [
        "--root",
        str(engine.root),
        "--figures-package",
        engine.figures_package,
        "--project-packages",
        ",".join(engine.project_packages),
        "--cache-dir",
        str(engine.cache_dir),
        *args,
    ]


def cli_command(engine: Engine, *args: str) -> list[str]:
    """The same, as a command for a fresh interpreter."""
    return [sys.executable, "-m", "symbiote_core.figures", *cli_args(engine, *args)]
