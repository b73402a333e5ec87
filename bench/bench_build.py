"""What the figure machinery costs a writer: a warm rebuild with and without it.

A prose edit in `mkdocs serve` triggers a full MkDocs build. This times that build
(figures cached) with the project's hooks, against the same site built by plain MkDocs
with the hooks removed (directives left as raw text), in one process, alternating, and
prints the ratio. Each timed build follows a prose edit and is made as `mkdocs serve`
makes it (`site_build`). A third build has the page memo off, so the ratio with every
page's Markdown converted again is printed too: the memo is what keeps a prose edit
from paying for pages it did not touch. It also times `plan()`, the per-rebuild cache
check.

    .venv/bin/python bench/bench_build.py [--repeat 7] [--essay]

By default the site is a generated essay (`genproject.py`: the essay's theme, hooks and
Markdown extensions; 9 figures over 5 pages, charts of a few thousand points, as the
essay's are), so the number does not depend on the essay's figures building. `--essay`
times the essay itself; run `make figures` first (it refuses while a figure is stale).
Times on a shared machine are inflated by other work: compare the ratio, not seconds.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

from symbiote_core.figures.engine.build import plan
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.site import page_memo as page_memo_module

sys.path.insert(0, str(Path(__file__).resolve().parent))
import genproject  # a sibling script, not a package

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / ".cache" / "bench"


def site_build(
    root: Path, site_dir: str, with_hooks: bool, page_memo: bool = True
) -> Callable[[], object]:
    """One rebuild as `mkdocs serve` makes it (`mkdocs.commands.serve`): a fresh config,
    plugins told the command is `serve`, the build given the serve URL. `page_memo`
    False: every page converted again (`symbiote_core.figures.site.page_memo`)."""

    def run() -> None:
        overrides: dict[str, object] = {"site_dir": site_dir}
        if not with_hooks:
            overrides["hooks"] = []
        config = load_config(str(root / "mkdocs.yml"), **overrides)
        config.plugins.on_startup(command="serve", dirty=False)
        previous = os.environ.get(page_memo_module.SWITCH)
        os.environ[page_memo_module.SWITCH] = "on" if page_memo else "off"
        try:
            build(config, serve_url=config.site_url)
        finally:
            if previous is None:
                del os.environ[page_memo_module.SWITCH]
            else:
                os.environ[page_memo_module.SWITCH] = previous

    return run


def alternate(
    runs: dict[str, Callable[[], object]], repeat: int, before: Callable[[], None]
) -> dict[str, list[float]]:
    """Times of each run, interleaved (so load on the machine hits both alike)."""
    for run in runs.values():
        run()  # warm-up: imports, templates, the vega bundle, the planning memo
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            before()
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--essay", action="store_true", help="time the essay, not a generated one")
    args = parser.parse_args()
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    logging.getLogger("mkdocs").setLevel(logging.ERROR)

    if args.essay:
        root = ROOT
        first_page = ROOT / "essay" / "index.md"
        original = first_page.read_text()
        edits = iter(range(10**9))
        # A prose edit the reader cannot see, undone when the benchmark ends.
        edit = lambda: first_page.write_text(f"{original}\n<!-- bench edit {next(edits)} -->\n")  # noqa: E731
        atexit.register(first_page.write_text, original)
    else:
        root = genproject.generate(GENERATED, 9, per_page=2, points=600)
        genproject.populate(root)
        edit = lambda: genproject.touch_prose(root)  # noqa: E731
    os.chdir(root)
    engine = Engine(root=root)
    stale = [p.name for p in plan(engine) if p.status != "cached"]
    if stale:
        raise SystemExit(f"figures not cached: {', '.join(stale)}; run `make figures` first")

    with (
        tempfile.TemporaryDirectory() as plain_dir,
        tempfile.TemporaryDirectory() as ours_dir,
        tempfile.TemporaryDirectory() as memo_off_dir,
    ):
        times = alternate(
            {
                "plain": site_build(root, plain_dir, with_hooks=False),
                "ours": site_build(root, ours_dir, with_hooks=True),
                "no memo": site_build(root, memo_off_dir, with_hooks=True, page_memo=False),
            },
            args.repeat,
            edit,
        )
    planning = timed(lambda: plan(engine), args.repeat)

    def line(name: str, values: list[float]) -> str:
        return f"{name:<34} median {statistics.median(values):6.3f} s  (min {min(values):.3f})"

    where = "the essay" if args.essay else f"a generated essay ({root.name})"
    print(f"warm rebuild after a prose edit, {where}, {args.repeat} runs each")
    print(line("plain MkDocs, hooks removed", times["plain"]))
    print(line("with figures, values, claims", times["ours"]))
    print(line("the same, every page converted", times["no memo"]))
    print(line("plan() over every figure", planning))
    plain = statistics.median(times["plain"])
    ratio = statistics.median(times["ours"]) / plain
    print(f"ratio (with figures / plain): {ratio:.2f}x")
    print(
        f"ratio without the page memo (SYMBIOTE_PAGE_MEMO=off): "
        f"{statistics.median(times['no memo']) / plain:.2f}x"
    )


if __name__ == "__main__":
    main()
