"""What the figure machinery costs a writer: a warm rebuild with and without it.

A prose edit in `mkdocs serve` triggers a full MkDocs build. This times that build
(figures cached, notebooks cached) with the project's hooks, against the same site
built by plain MkDocs with the hooks removed (directives left as raw text), in one
process, and prints the ratio. It also times `plan()`, the per-rebuild cache check.

    .venv/bin/python bench/bench_build.py [--repeat 5]

Run `make figures` first so every figure is cached (the benchmark refuses otherwise).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

from symbiote_core.figures.build import plan
from symbiote_core.figures.registry import Engine

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm-up: imports, notebook cache, vega bundle
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def site_build(site_dir: str, with_hooks: bool) -> Callable[[], object]:
    def run() -> None:
        overrides = {"site_dir": site_dir}
        if not with_hooks:
            overrides["hooks"] = []
        build(load_config(str(ROOT / "mkdocs.yml"), **overrides))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    os.chdir(ROOT)

    engine = Engine(root=ROOT)
    stale = [p.name for p in plan(engine) if p.status != "cached"]
    if stale:
        raise SystemExit(f"figures not cached: {', '.join(stale)}; run `make figures` first")

    with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as ours_dir:
        plain = timed(site_build(plain_dir, with_hooks=False), args.repeat)
        ours = timed(site_build(ours_dir, with_hooks=True), args.repeat)
    planning = timed(lambda: plan(engine), args.repeat)

    def line(name: str, times: list[float]) -> str:
        return f"{name:<34} median {statistics.median(times):6.3f} s  (min {min(times):.3f})"

    print(line("plain MkDocs, hooks removed", plain))
    print(line("with figures, values, claims", ours))
    print(line("plan() over every figure", planning))
    print(f"ratio (with figures / plain): {statistics.median(ours) / statistics.median(plain):.2f}x")


if __name__ == "__main__":
    main()
