#!/usr/bin/env bash
# symbiote_core against SAELens: the SAELens file format checked by SAELens itself
# (bench/saelens_format.py), then the same TopK dictionary trained by both (bench_saelens.py).
# SAELens lives in its own venv (bench/.venv-saelens) so the project's venv stays lean;
# symbiote_core is installed into it in editable mode. torch is pinned to the local CPU
# wheel: any other version (or a bare `torch`) pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.venv-saelens
STAMP="$VENV/.installed"
if [[ ! -f "$STAMP" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet torch==2.13.0 numpy "sae-lens>=6.54,<6.55"
    "$VENV/bin/pip" install --quiet -e .  # torch==2.13.0 is already there, so nothing big
    touch "$STAMP"
fi
"$VENV/bin/python" bench/saelens_format.py
exec "$VENV/bin/python" bench/bench_saelens.py "$@"
