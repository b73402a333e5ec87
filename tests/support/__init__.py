"""Helpers the test layers share (on `sys.path` through `pythonpath` in pyproject.toml).

- `project`: the checkout, the session's private caches, copies of the project, and
  `run_mkdocs`;
- `mini`: the small site of one probe figure and one notebook (site tests break it);
- `engine`: the fake project of `tests/fixtures/figure_project` (engine tests);
- `serving`: a free port and a patient fetch, for tests that run `mkdocs serve`.

Fixtures live in the conftest of the layer that uses them; this package holds plain
functions, so a test imports what it calls instead of reaching into a conftest.
"""
