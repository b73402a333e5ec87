"""The figure engine: every figure of the essay regenerated from code, and cached.

Import what you use from its modules; this package re-exports nothing, so that a figure
module importing `symbiote_core.figures.spec` loads the spec and nothing else (no
build, cache or lock code):

    from symbiote_core.figures.registry import Engine
    from symbiote_core.figures.build import plan, build, load_entry
    engine = Engine.discover()                   # or Engine(root=Path(...))
    plan(engine, names=None) -> list[FigurePlan] # cheap: reads source, imports nothing
    build(engine, names=None, force=False, jobs=None, on_event=None) -> list[BuildResult]
    load_entry(engine, name) -> FigureEntry | None

Modules: `spec` (what a figure is), `registry` (where figures live), `keys` and `deps`
(cache keys from source), `memo` (planning memoised on file signatures), `cache` (the
entries on disk; `EntryMeta` is their metadata), `build` (workers), `cli`, `scaffold`
(`figures new`), `diff` (`figures diff`), and the MkDocs adapter (`site`, `markup`,
`claims_page`, `mkdocs_hooks`, `page_memo`, `notebook*`, `vendor`).

This package imports neither torch nor MkDocs: compute and render run in worker
processes. The engine's own modules are not part of a figure's cache key (see `keys.py`).
"""
