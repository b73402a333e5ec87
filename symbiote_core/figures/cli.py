"""`python -m symbiote_core.figures list | build [NAME...] [--scheduler S] |
clean [NAME...] | keys | new NAME | check [NAME...] | manifest [-o FILE] | diff [REV]
[--manifest FILE] [--markdown] | timings [--write] | verify [NAME...] [--sample N]
[--seed S] [--budget S]`.

`verify` recomputes cached figures from scratch in a throwaway cache and compares their
data byte for byte, their values and their verdicts (`engine/verify.py`).

`keys` prints every figure's cache keys, from source (what a CI cache is keyed on);
`new` writes a figure module that builds as it stands (`scaffold.py`) and checks it;
`check` checks figures against the authoring rules (`authoring/rules.py`: exit 1 on
any finding; `build` prints the same findings as warnings); `manifest` saves
every figure's values and claim verdicts; `diff` prints what changed in them against a
git revision (default HEAD) or a saved manifest (`diff.py`); `timings` prints the compute
seconds the last build measured, and `--write` saves them where a fresh clone's build
reads its start order (`schedule.py`).

`build --scheduler ADDRESS` checks first that the address answers as a Dask scheduler
within `--scheduler-timeout` seconds (`cluster.check_scheduler`), else stops with one line.
`build` shows one line per figure (a spinner and elapsed time on a terminal, plain
lines otherwise), then a summary table. Every message is printed once and never
wrapped (a path cut in two cannot be copied); colours only on a terminal. Exit code 1 if a figure failed, or with
`--strict` if a claim does not hold; 2 for a usage error such as an unknown name.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from symbiote_core.figures.authoring.claimtext import describe_claim
from symbiote_core.figures.engine.build import BuildResult, build, plan
from symbiote_core.figures.engine.ownership import clean
from symbiote_core.figures.engine.registry import Engine, FigureError, static_title
from symbiote_core.figures.engine.settings import SettingsError, process_local_reason


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(highlight=False, emoji=False)  # "file.py:1234: ..." is no emoji code
    errors = Console(stderr=True, highlight=False, emoji=False)
    try:
        engine = _engine(args)
        reason = process_local_reason(engine.cache_dir)
        if reason is not None and args.command != "new":  # `new` never reads the cache
            raise FigureError(reason)
        if args.command == "list":
            return _list(engine, console)
        if args.command == "build":
            return _build(engine, args, console)
        if args.command == "keys":
            for item in plan(engine):
                console.out(f"{item.name} {item.key} {item.data_key}", highlight=False)
            return 0
        if args.command == "new":
            return _new(engine, args, console)
        if args.command == "check":
            return _check(engine, args, console)
        if args.command == "manifest":
            return _manifest(engine, args, console)
        if args.command == "diff":
            return _diff(engine, args, console)
        if args.command == "timings":
            return _timings(engine, args, console)
        if args.command == "verify":
            return _verify(engine, args, console)
        if args.command == "release":
            from symbiote_core.figures.engine.releases import release

            path = release(engine, args.version)
            console.print(f"wrote {engine.relative(path)}: commit it and tag v{args.version}")
            return 0
        if args.command == "freeze":
            from symbiote_core.figures.engine.releases import freeze

            for folder in freeze(engine, args.site.resolve(), args.base_url):
                console.print(f"froze {folder}", markup=False)
            return 0
        return _clean(engine, args, console)
    except (FigureError, SettingsError) as error:
        errors.print(f"error: {error}", markup=False, soft_wrap=True)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m symbiote_core.figures", description="Build the essay's figures."
    )
    parser.add_argument("--root", type=Path, help="repository root (default: found from here)")
    # No defaults here: every setting left out comes from [tool.symbiote.figures] in
    # pyproject.toml (engine/settings.py), so the CLI and the engine cannot disagree.
    parser.add_argument("--figures-package", help="default: the project's settings")
    parser.add_argument(
        "--project-packages",
        help="comma-separated packages whose source enters the cache keys "
        "(default: the project's settings)",
    )
    parser.add_argument(
        "--cache-dir",
        help="a folder or an fsspec URL such as s3://bucket/figures "
        "(default: $SYMBIOTE_FIGURE_CACHE, else the project's settings)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every figure, its title and whether it is cached")
    build_cmd = commands.add_parser("build", help="compute and render stale figures")
    build_cmd.add_argument("names", nargs="*", metavar="NAME")
    build_cmd.add_argument("--force", action="store_true", help="recompute even if cached")
    build_cmd.add_argument("--jobs", type=int, default=None, help="worker processes")
    build_cmd.add_argument(
        "--scheduler",
        help="'local' (process pool, default), 'local:N' (a Dask cluster of N processes "
        "here) or a Dask scheduler address tcp://HOST:PORT (default: $SYMBIOTE_SCHEDULER)",
    )
    build_cmd.add_argument(
        "--scheduler-timeout",
        type=float,
        metavar="SECONDS",
        help="how long a scheduler address has to answer as a Dask scheduler before the "
        "build stops (default: $SYMBIOTE_SCHEDULER_TIMEOUT, else the project's settings, 20)",
    )
    build_cmd.add_argument(
        "--strict", action="store_true", help="exit 1 when a claim does not hold"
    )
    clean_cmd = commands.add_parser("clean", help="delete cached entries")
    clean_cmd.add_argument("names", nargs="*", metavar="NAME")
    commands.add_parser(
        "keys", help="each figure's name, key and data key (from source; a CI cache key)"
    )
    new_cmd = commands.add_parser("new", help="write a figure module that builds as it stands")
    new_cmd.add_argument("name", metavar="NAME")
    check_cmd = commands.add_parser(
        "check", help="check figures against the authoring rules (authoring/rules.py)"
    )
    check_cmd.add_argument("names", nargs="*", metavar="NAME")
    manifest_cmd = commands.add_parser(
        "manifest", help="every figure's keys, values and claim verdicts, as JSON"
    )
    manifest_cmd.add_argument("-o", "--output", type=Path, help="file (default: stdout)")
    diff_cmd = commands.add_parser(
        "diff", help="what changed in values and verdicts against a revision or a manifest"
    )
    diff_cmd.add_argument("revision", nargs="?", default="HEAD", metavar="REV")
    diff_cmd.add_argument("--manifest", type=Path, help="compare with a saved manifest")
    diff_cmd.add_argument("--markdown", action="store_true", help="a Markdown table")
    diff_cmd.add_argument(
        "--images",
        type=Path,
        metavar="DIR",
        help="also write before/after PNGs of every figure whose picture changed (review.py)",
    )
    diff_cmd.add_argument("--images-link", help="where a reader finds the images (a URL)")
    verify_cmd = commands.add_parser(
        "verify", help="recompute cached figures from scratch and compare them byte for byte"
    )
    verify_cmd.add_argument("names", nargs="*", metavar="NAME")
    verify_cmd.add_argument("--sample", type=int, help="check N of them, drawn at random")
    verify_cmd.add_argument("--seed", type=int, default=0, help="the sample's RNG seed")
    verify_cmd.add_argument(
        "--budget",
        type=float,
        help="only figures whose recompute (the artifacts it produces again included) "
        "takes at most S seconds",
    )
    verify_cmd.add_argument("--jobs", type=int, default=None, help="worker processes")
    release_cmd = commands.add_parser(
        "release", help="record the current build as a version (essay/releases/VERSION.json)"
    )
    release_cmd.add_argument("version", metavar="VERSION")
    freeze_cmd = commands.add_parser(
        "freeze", help="build every recorded release's own site into SITE/v/VERSION/"
    )
    freeze_cmd.add_argument("site", type=Path, metavar="SITE")
    freeze_cmd.add_argument("--base-url", default="", help="the site's URL (SITE_URL)")
    timings_cmd = commands.add_parser(
        "timings", help="measured compute seconds per figure (the build's start order)"
    )
    timings_cmd.add_argument(
        "--write", action="store_true", help="save them as <figures package>/build_seconds.json"
    )
    return parser


def _verify(engine: Engine, args: argparse.Namespace, console: Console) -> int:
    from symbiote_core.figures.engine.verify import choose, verify

    names = choose(engine, args.names or None, args.sample, args.seed, args.budget)
    if not names:
        console.print("nothing to verify: no cached figure matches", markup=False)
        return 1
    console.print(f"recomputing {', '.join(names)} from scratch", markup=False)
    results = verify(engine, names, jobs=args.jobs)
    table = Table("figure", "outcome", "seconds", "what differs", title="re-execution check")
    for item in results:
        table.add_row(item.name, item.outcome, f"{item.seconds:.1f}", item.detail)
    console.print(table)
    bad = [item.name for item in results if not item.ok]
    if bad:
        console.print(f"did not reproduce: {', '.join(bad)} (a bug: please report it)", markup=False)
    return 1 if bad else 0


def _timings(engine: Engine, args: argparse.Namespace, console: Console) -> int:
    from symbiote_core.figures.engine.registry import figure_names
    from symbiote_core.figures.engine.schedule import hints_json, hints_path

    text = hints_json(engine, figure_names(engine))
    if args.write:
        hints_path(engine).write_text(text, encoding="utf-8")
        console.print(f"wrote {engine.relative(hints_path(engine))}", markup=False)
    else:
        console.out(text, end="", highlight=False)
    return 0


def _engine(args: argparse.Namespace) -> Engine:
    options: dict[str, Any] = {"figures_package": args.figures_package}
    if args.project_packages is not None:
        options["project_packages"] = tuple(p for p in args.project_packages.split(",") if p)
    if args.cache_dir is not None:
        options["cache_dir"] = args.cache_dir  # parsed by settings.resolve_cache, like the variable
    if getattr(args, "scheduler_timeout", None) is not None:
        options["scheduler_timeout"] = args.scheduler_timeout  # checked by the engine
    if args.root is not None:
        return Engine(root=args.root, **options)
    return Engine.discover(**options)


def _list(engine: Engine, console: Console) -> int:
    table = Table("name", "title", "status")
    for item in plan(engine):
        title = static_title(item.module_path.read_text(encoding="utf-8")) or "?"
        status = {"cached": "cached", "data-cached": "stale (render only)"}.get(
            item.status, "stale"
        )
        table.add_row(item.name, title, status)
    console.print(table)
    return 0


def _clean(engine: Engine, args: argparse.Namespace, console: Console) -> int:
    from symbiote_core.figures.engine.registry import resolve_names

    names = resolve_names(engine, args.names) if args.names else None
    cleaned = clean(engine, names)
    console.print(
        f"removed {len(cleaned.removed)} cache entr{'y' if len(cleaned.removed) == 1 else 'ies'} "
        f"under {engine.cache_dir}",
        markup=False,
        soft_wrap=True,
    )
    if cleaned.left:
        console.print(
            f"left {len(cleaned.left)} item(s) the figure engine did not write:", markup=False
        )
        for item in cleaned.left:
            console.print(f"  {item}", markup=False, soft_wrap=True)
    return 0


def _new(engine: Engine, args: argparse.Namespace, console: Console) -> int:
    from symbiote_core.figures.check import check, format_reports
    from symbiote_core.figures.scaffold import new_figure

    path = new_figure(engine, args.name)
    console.print(
        f"wrote {engine.relative(path)}; build it with `python -m symbiote_core.figures "
        f"build {args.name}` and embed it with {{{{ figure: {args.name} }}}}",
        markup=False,
        soft_wrap=True,
    )
    lines, summary = format_reports(check(engine, [args.name]))
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    console.print(f"authoring rules: {summary}", markup=False)
    return 0


def _check(engine: Engine, args: argparse.Namespace, console: Console) -> int:
    from symbiote_core.figures.check import check, findings, format_reports

    reports = check(engine, args.names or None)
    lines, summary = format_reports(reports)
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    console.print(summary, markup=False)
    return 1 if findings(reports) else 0


def _manifest(engine: Engine, args: argparse.Namespace, console: Console) -> int:
    from symbiote_core.figures.engine.diff import manifest

    text = json.dumps(manifest(engine), indent=2, sort_keys=True) + "\n"
    if args.output is None:
        console.out(text, end="", highlight=False)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


def _diff(engine: Engine, args: argparse.Namespace, console: Console) -> int:
    from symbiote_core.figures.engine import diff

    if args.manifest is not None:
        before, against = diff.load_manifest(args.manifest), str(args.manifest)
    else:
        before, against = diff.revision_manifest(engine, args.revision), args.revision
    changes = diff.compare(before, diff.manifest(engine))
    pictures = ""
    if args.images is not None:
        if args.manifest is not None:
            raise FigureError("--images needs a revision (a manifest holds no pictures)")
        from symbiote_core.figures.review import figure_images, images_markdown

        images = figure_images(engine, args.revision, args.images)
        pictures = images_markdown(images, args.images_link)
    if args.markdown:
        console.out(diff.markdown_table(changes, against) + pictures, end="", highlight=False)
        return 0
    if pictures:
        console.out(pictures, highlight=False)
    if not changes:
        console.print(f"no figure value or claim verdict differs from {against}", markup=False)
        return 0
    table = Table("figure", "value or claim", against, "working tree", title="figure changes")
    for change in changes:
        table.add_row(change.figure, change.item or "(figure)", change.before, change.after)
    console.print(table)
    return 0


def _build(engine: Engine, args: argparse.Namespace, console: Console) -> int:
    names = args.names or None
    if console.is_terminal:
        with Progress(
            SpinnerColumn(finished_text=" "),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def on_event(name: str, kind: str, info: dict[str, Any]) -> None:
                if name not in tasks:
                    tasks[name] = progress.add_task(name, total=1, state="", start=False)
                task = tasks[name]
                if kind == "start":
                    progress.start_task(task)
                    progress.update(task, state="running")
                elif kind in ("done", "cached", "failed"):
                    state = info.get("status", kind)
                    progress.update(task, state=state, completed=1)
                    progress.stop_task(task)
                elif kind == "corrupt":
                    progress.console.print(
                        Text.assemble(("warning", "yellow"), f": {info['problem']}"),
                        soft_wrap=True,
                    )

            results = build(engine, names, args.force, args.jobs, on_event, args.scheduler)
    else:
        started: dict[str, float] = {}

        def on_event(name: str, kind: str, info: dict[str, Any]) -> None:
            if kind == "start":
                started[name] = time.perf_counter()
                console.print(f"{name}: running", markup=False)
            elif kind in ("done", "failed"):
                seconds = info.get("seconds", 0.0)
                console.print(f"{name}: {info.get('status', kind)} ({seconds:.1f} s)", markup=False)
            elif kind == "cached":
                console.print(f"{name}: cached", markup=False)
            elif kind == "corrupt":
                console.print(f"warning: {info['problem']}", markup=False, soft_wrap=True)

        results = build(engine, names, args.force, args.jobs, on_event, args.scheduler)
    code = _summarise(results, args.strict, console)
    _warn_rules(engine, results, console)
    return code


def _warn_rules(engine: Engine, results: list[BuildResult], console: Console) -> None:
    """The authoring rules' findings on the figures just built, as warnings."""
    from symbiote_core.figures.check import check, findings

    built = {r.name: r.entry for r in results if r.entry is not None}
    if not built:
        return
    try:
        found = findings(check(engine, list(built), built))
    except Exception as error:  # a warning step never fails a build that succeeded
        console.print(f"warning: authoring rules not checked: {error!r}", markup=False)
        return
    for finding in found:
        console.print(f"warning: {finding}", markup=False, soft_wrap=True)


def _summarise(results: list[BuildResult], strict: bool, console: Console) -> int:
    table = Table("figure", "status", "seconds", "claims holding", title="figures")
    failing_claims = []
    for result in results:
        if result.entry is not None:
            holding, total = result.entry.claims_holding
            claims = f"{holding}/{total}"
            failing_claims += [(result.name, c) for c in result.entry.failed_claims]
        else:
            claims = "-"
        style = {"failed": "red", "computed": "green", "rendered": "cyan"}.get(result.status)
        table.add_row(result.name, result.status, f"{result.seconds:.1f}", claims, style=style)
    console.print(table)
    for name, claim in failing_claims:
        console.print(
            f"claim {claim.verdict}: {name}.{claim.name}: {describe_claim(claim.to_json())} "
            f"({claim.statement})",
            markup=False,
            soft_wrap=True,
        )
    failed = [result for result in results if not result.ok]
    for result in failed:
        console.rule(f"{result.name} failed")
        # soft_wrap: a traceback keeps its lines, whatever the terminal width.
        console.print(result.error or "(no error text)", markup=False, soft_wrap=True)
    if failed:
        return 1
    return 1 if strict and failing_claims else 0
