"""Run one figure's compute as a build worker does, and say what it cost.

    .venv/bin/python bench/profile_figure.py NAME [--cprofile OUT] [--dump OUT]
        [--against CACHE]

Restarts itself under the workers' environment (`worker.WORKER_ENV`: pinned numerics,
malloc settings), seeds and routes the matrix products as `worker.make` does, reads the
shared artifacts (trained hosts, dictionaries) from the figure cache
(`$SYMBIOTE_FIGURE_CACHE`, else the project's; one that is missing is trained and
stored there, as a build would), runs `compute` and prints its CPU seconds (user +
system, this process), which unlike the build's `compute_seconds` (wall) do not grow
when other processes share the cores. Nothing but artifacts is written to the cache.

`--cprofile OUT` writes cProfile stats of compute; `--dump OUT` its data as the build
stores it (data.json); `--against CACHE` compares that data byte for byte with the
figure's newest data entry in another cache (e.g. the main checkout's, built at the
commit before a speed-up): the check that a change left every value's bits alone.

For a native profile (py-spy), start it under the environment already, or py-spy loses
the process when it restarts: `eval "$(.venv/bin/python bench/profile_figure.py --env)";
.venv/bin/py-spy record --native -o out.svg -- .venv/bin/python bench/profile_figure.py
NAME` (`--env` prints the variables as `export` lines).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from symbiote_core.figures.engine.worker import WORKER_ENV, restart_with_pinned_env

if "--env" in sys.argv[1:]:
    print("\n".join(f"export {k}={shlex.quote(v)}" for k, v in WORKER_ENV.items()))
    sys.exit(0)
restart_with_pinned_env(WORKER_ENV)


def newest_data(cache: Path, name: str) -> Path | None:
    """The data.json of `name`'s most recently written data entry in `cache`."""
    metas = sorted((cache / "data" / name).glob("*/meta.json"), key=lambda p: p.stat().st_mtime)
    return metas[-1].with_name("data.json") if metas else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--cprofile", type=Path, help="write cProfile stats of compute here")
    parser.add_argument("--dump", type=Path, help="write compute's data (data.json) here")
    parser.add_argument("--against", type=Path, help="a figure cache to compare the data with")
    args = parser.parse_args()

    # Imported after the restart: torch reads the pinned variables when it loads.
    from symbiote_core.figures.engine import artifacts
    from symbiote_core.figures.engine.cache import dumps
    from symbiote_core.figures.engine.registry import Engine, load_figure
    from symbiote_core.figures.engine.worker import pin_numerics, seed_rngs

    engine = Engine.discover()
    pin_numerics(torch=True)  # as `worker.make` (every essay figure imports torch)
    figure = load_figure(args.name, engine)
    seeds = figure.seeds()
    seed_rngs(seeds[0] if seeds else 0, torch=True)
    artifacts.activate(engine, args.name)
    profile = None
    if args.cprofile:
        import cProfile

        profile = cProfile.Profile()
    start, wall = time.process_time(), time.perf_counter()
    try:
        if profile is not None:
            profile.enable()
        data = figure.compute(figure.params)
    finally:
        if profile is not None:
            profile.disable()
        problems = artifacts.deactivate()
    cpu, wall = time.process_time() - start, time.perf_counter() - wall
    print(f"{args.name}: compute {cpu:.1f} CPU s ({wall:.1f} s wall)")
    for problem in problems:
        print(f"artifact cache: {problem}", file=sys.stderr)
    if profile is not None:
        profile.dump_stats(args.cprofile)
    raw = dumps(data)
    if args.dump:
        args.dump.write_bytes(raw)
    if args.against:
        stored = newest_data(args.against, args.name)
        if stored is None:
            sys.exit(f"no data entry of {args.name} in {args.against}")
        same = stored.read_bytes() == raw
        print(f"data {'identical to' if same else 'DIFFERS from'} {stored}")
        sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
