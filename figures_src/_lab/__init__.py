"""The experiment layer under the figures: what several figure modules share.

Not figures: the registry takes only the modules directly in `figures_src/` whose names
do not start with `_`, and this package starts with one. Its code enters a figure's data
key as any project code does, part by part (`engine/deps.py`): a figure recomputes when
code its compute reaches here changes, and not when an unrelated part does.

- `hosts`: the settings of each host family, one dataclass composed into a figure's
  `Params` (`host: ToyHost`), so a recipe is written once.
- `values`: per-seed access and pass-through values for `Figure(values=...)`.
- `words`: wording several figures share: the faithfulness measures' descriptions and
  each host family's methods paragraph, which a figure includes rather than pastes.
- one module per compute job that figures share (named for what it does).
"""
