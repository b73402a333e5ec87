"""CI's spot-check of the real essay: a sample of its figures recomputed from scratch
(`figures verify`, `engine/verify.py`) reproduces the entries its build used, byte for
byte. (The check itself, on the fake project: engine/test_verify.py.)"""

from __future__ import annotations

import datetime

from support.project import ROOT, EssayBuild

from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.verify import choose, verify


def test_a_sample_of_the_real_essay_reproduces(essay_build: EssayBuild) -> None:
    """CI's spot-check: two real figures (drawn by a seed that changes every day, among
    those whose recompute takes at most 90 s) recomputed from scratch, compared byte for
    byte with the entries the session's build used. From scratch includes the shared
    artifacts they load, and the budget counts them: drawing modadd_fourier retrains
    the modular-addition hosts, which is wanted, since the hosts' training is what most
    needs to reproduce. The language hosts (about 150 s) are over it: `figures verify
    language_host` checks them."""
    engine = Engine(root=ROOT, cache_dir=essay_build.figure_cache)
    seed = datetime.date.today().toordinal()
    names = choose(engine, sample=2, seed=seed, budget=90.0)
    assert names, "no cached figure within the budget to verify"
    results = verify(engine, names)
    assert all(r.ok for r in results), [(r.name, r.outcome, r.detail) for r in results]
