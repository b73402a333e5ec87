"""Margins of `symbiosis_modadd`'s claims, on the TUNING seeds (issue 19).

Not part of the build. Runs the figure's own compute on seeds 0-4 with only the
uncoupled and null hosts (no coupling, no baseline) and prints, per measure the claims
compare, each seed's |uncoupled - null|: the figure's criterion takes the largest,
rounded up to two significant digits (`MARGINS`). It runs under the figure workers'
pinned numerics (`worker.PINNED_ENV`; it restarts itself with them if they are not set),
or its numbers would be another machine's.

Usage: .venv/bin/python bench/tune_symbiosis_margins.py OUT.json
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys

from symbiote_core.figures.engine.worker import restart_with_pinned_env

restart_with_pinned_env()

# Imported after the numerics are pinned (torch reads them when it loads).
import figures_src.symbiosis_modadd as fig  # noqa: E402
from symbiote_core.runtime import route_gemm_to_openblas  # noqa: E402

route_gemm_to_openblas()  # as a figure worker does

TUNING = (0, 1, 2, 3, 4)
MEASURES = ("test_loss", "reader_recovered")


def round_up(x: float, digits: int = 2) -> float:
    """`x` rounded up to `digits` significant digits (1.2709 -> 1.3, 0.02142 -> 0.022)."""
    scale = 10 ** (digits - 1 - math.floor(math.log10(x)))
    return math.ceil(x * scale) / scale


def main(out: str) -> None:
    params = dataclasses.replace(fig.PARAMS, seeds=TUNING, couplings=(0.0,), l1s=(), widths=())
    rows = fig.compute(params)["rows"]
    report = {}
    for measure in MEASURES:
        uncoupled = {r["seed"]: r[measure] for r in rows if r["family"] == fig.COUPLED}
        null = {r["seed"]: r[measure] for r in rows if r["family"] == fig.NULL}
        diff = {s: abs(uncoupled[s] - null[s]) for s in uncoupled}
        report[measure] = {
            "uncoupled": uncoupled, "null": null, "diff": diff,
            "margin": round_up(max(diff.values())),
        }
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    for measure, r in report.items():
        print(f"{measure}: largest difference {max(r['diff'].values()):.4g} -> margin {r['margin']}")


if __name__ == "__main__":
    main(sys.argv[1])
