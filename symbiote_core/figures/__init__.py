"""The build that turns figure modules into the essay: not needed to use the library.

`import symbiote_core` (hosts, symbiotes, metrics) never imports this package. It is laid
out by role; the arrows run one way (authoring <- engine <- site, and cli over both):

- `authoring/`: what a figure module imports: `spec` (Figure, Claim, Null), `palette`
  (colour roles), `claimtext` (claim wording).
- `engine/`: settings, keys, cache, scheduling and workers; imports no MkDocs:

      from symbiote_core.figures.engine.registry import Engine
      from symbiote_core.figures.engine.build import plan, build, load_entry
      engine = Engine.discover()                   # or Engine(root=Path(...))
      plan(engine, names=None) -> list[FigurePlan] # cheap: reads source, imports nothing
      build(engine, names=None, force=False, jobs=None, on_event=None) -> list[BuildResult]
      load_entry(engine, name) -> FigureEntry | None

- `site/`: the MkDocs adapter (hooks, directives, appendices, notebooks, citations).
- `cli`: `python -m symbiote_core.figures ...`; `scaffold`: the module `figures new` writes.

Nothing here imports torch or MkDocs at import time: compute and render run in worker
processes. A figure's keys follow the authoring modules it imports like library code
(a palette imported inside `render` enters the render key only), and never the engine's
or the site's own modules (`engine/keys.py`).
"""
