"""The figure engine: settings, keys, cache, scheduling and workers. No MkDocs here.

Read in this order:
- `registry` (where figures live: the `Engine` settings) and `settings` (the project's
  `[tool.symbiote.figures]` table, read in one place);
- `deps`, `imports`, `memo`, `keys`: cache keys from source text, memoised on file stats;
- `storage`, `cache`, `artifacts`: entries on disk or at a URL, and shared intermediates;
- `plan` (what is stale, importing nothing), `build` (bring figures up to date),
  `schedule` (start order), `pool` (local processes), `cluster` (Dask), `tasks` (what
  the client and a worker pass), `worker` (one figure: compute, evaluate, render, store);
- `diff` (values and verdicts against another revision).
Arrows run one way: `build` -> `pool`/`cluster` -> `worker` -> `cache` -> `storage`.
"""
