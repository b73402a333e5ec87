"""How planning and warm rebuilds grow with the number of figures.

For generated essays (`genproject.py`) of 10, 100 and 300 trivial figures (ten to a
page), prints, per size: `plan()` when nothing changed (the check every rebuild makes),
`plan()` after one figure module was edited (one figure's keys are derived again),
`plan()` with its memo dropped (what every plan cost before issue 10), and a warm
rebuild after a prose edit with the hooks and without them (plain MkDocs, the
baseline, built in the same process, alternating with ours).

    .venv/bin/python bench/bench_scaling.py [--sizes 10 100 300] [--repeat 3]

The first run builds the generated figures (about a minute for 300); later runs reuse
them. Times on a shared machine are inflated by other work: read the ratios.
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

import genproject
from bench_build import GENERATED, alternate, site_build

from symbiote_core.figures.engine import memo
from symbiote_core.figures.engine.build import plan
from symbiote_core.figures.engine.registry import Engine


def median_time(fn: Callable[[], object], repeat: int, before: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def edit_one_figure(root: Path) -> tuple[Callable[[], None], Callable[[], None]]:
    """(edit, restore): each edit changes fig_000's source (a comment), so its keys must
    be derived again; restore puts the original back (whose entry is cached)."""
    path = root / "figures_src" / "fig_000.py"
    original = path.read_text()
    count = [0]

    def edit() -> None:
        count[0] += 1
        path.write_text(original + f"# edit {count[0]}\n")

    return edit, lambda: path.write_text(original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 300])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    logging.getLogger("mkdocs").setLevel(logging.ERROR)

    roots = {n: genproject.generate(GENERATED, n, per_page=10, points=8) for n in args.sizes}
    for root in roots.values():
        genproject.populate(root)
    # The memo only vouches for files unchanged for memo.RACY_NS (see memo.py): let the
    # freshly written ones settle, so what is timed is the steady state of `serve`.
    time.sleep(memo.RACY_NS / 1e9)

    rows = []
    for n, root in roots.items():
        os.chdir(root)
        engine = Engine(root=root)
        plan(engine)  # fills the memo
        noop = median_time(lambda e=engine: plan(e), args.repeat, lambda: None)
        edit, restore = edit_one_figure(root)
        one_edit = median_time(lambda e=engine: plan(e), args.repeat, edit)
        restore()
        cold = median_time(lambda e=engine: plan(e), args.repeat, memo.clear_all)
        stale = [p.name for p in plan(engine) if p.status != "cached"]
        assert not stale, f"not cached: {stale}"
        with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as ours:
            times = alternate(
                {
                    "plain": site_build(root, plain_dir, with_hooks=False),
                    "ours": site_build(root, ours, with_hooks=True),
                },
                args.repeat,
                lambda r=root: genproject.touch_prose(r),
            )
        plain, with_hooks = statistics.median(times["plain"]), statistics.median(times["ours"])
        rows.append((n, noop, one_edit, cold, plain, with_hooks))

    print(f"medians of {args.repeat} runs; seconds")
    header = (
        f"{'figures':>7} {'plan no-op':>11} {'plan 1 edit':>12} {'plan no memo':>13} "
        f"{'plain mkdocs':>13} {'with hooks':>11} {'ratio':>6}"
    )
    print(header)
    for n, noop, one_edit, cold, plain, with_hooks in rows:
        print(
            f"{n:>7} {noop:>11.4f} {one_edit:>12.4f} {cold:>13.4f} "
            f"{plain:>13.3f} {with_hooks:>11.3f} {with_hooks / plain:>5.2f}x"
        )
    base_n, base_noop = rows[0][0], rows[0][1]
    for n, noop, *_ in rows[1:]:
        print(
            f"no-op plan, {n} figures against {base_n}: {noop / base_noop:.1f}x the time "
            f"for {n / base_n:.0f}x the figures"
        )


if __name__ == "__main__":
    main()
