"""The seeds of section 5 and its recipe's training criterion, without torch.

Figure modules import these at top level (their `render` must not load torch);
`figures_src._lab.induction` re-exports them beside the hosts.
"""

TUNING_SEEDS = tuple(range(20))
"""The seeds the recipe (`InductionConfig`'s defaults) was developed on: recipes were
compared on seeds 0-9 and the one kept was measured on seeds 0-19 (see
`symbiote_core.hosts.induction`). Claims are never judged on them."""
SEEDS = (20, 21, 22, 23, 24)
"""The evaluation seeds of section 5: the figures run these and judge their claims on them."""
RATE_SEEDS = tuple(range(20, 40))
"""The recipe's success rate is measured over these twenty seeds, outside the tuning set
(`recipe_rate`); the evaluation seeds are among them, so one shared run trains all the
2-layer hosts (a seed's host does not depend on which seeds train beside it)."""
INDUCTION_CRITERION = 0.5
"""The recipe's training criterion, declared before the run over `RATE_SEEDS`: a host has
*formed induction* when its best layer-1 head puts over half its attention on the
induction key on held-out sequences (the induction-head definition of the figures)."""
