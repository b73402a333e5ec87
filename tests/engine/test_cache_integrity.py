"""Issue 7, engine side: the cache never serves a wrong figure.

Each test breaks a private copy of the fake project (`tests/fixtures/figure_project`)
the way the adversarial tester did: an edit saved mid-build, a bit flipped in meta.json,
a hash-seed-dependent compute, a killed CLI.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.engine import cli_command

from symbiote_core.figures.engine import worker as worker_module
from symbiote_core.figures.engine.build import build, plan
from symbiote_core.figures.engine.cache import (
    CorruptEntryError,
    entry_dir,
    read_data_entry,
    read_figure_entry,
)
from symbiote_core.figures.engine.registry import FigureError

FIGURE_TAIL = """

def render(data: dict):
    import altair as alt

    return alt.Chart(alt.Data(values=[{"v": 1}])).mark_point().encode(x="v:Q")


FIGURE = Figure(title="T", caption="C.", alt="A.", params=Params(), compute=compute,
                render=render, values={"n": Value("one", lambda data: 1)})
"""


# ------------------------------------------------------------------ case 1


RACY = (
    '''"""Saves an edit to its library module while it is being built, as an editor would."""
from dataclasses import dataclass
from pathlib import Path

from symbiote_core.figures.authoring.spec import Figure, Value

# The worker has hashed lib/racy_dep.py (VALUE = 1) by now; this save lands before
# the import below reads it.
_DEP = Path(__file__).resolve().parent.parent / "lib" / "racy_dep.py"
_DEP.write_text("VALUE = 2\\n")

from lib.racy_dep import VALUE  # noqa: E402


@dataclass(frozen=True)
class Params:
    seed: int = 0


def compute(p: Params) -> dict:
    return {"value": VALUE}
'''
    + FIGURE_TAIL
)


def test_an_edit_saved_mid_build_is_never_stored_under_the_old_key(fake_project) -> None:
    engine = fake_project()
    (engine.root / "lib" / "racy_dep.py").write_text("VALUE = 1\n")
    (engine.root / "figs" / "racy.py").write_text(RACY)
    (before,) = plan(engine, ["racy"])
    (result,) = build(engine, ["racy"])
    assert result.status == "failed", result
    assert "lib/racy_dep.py changed while the figure was being built" in (result.error or "")
    # Nothing under the key of the code that was hashed (VALUE = 1) ...
    assert not entry_dir(engine, "out", "racy", before.key).exists()
    assert not entry_dir(engine, "data", "racy", before.data_key).exists()
    # ... and building again stores the new code's output under the new code's key.
    (again,) = build(engine, ["racy"])
    assert again.status == "computed" and again.entry is not None
    assert again.entry.data == {"value": 2}
    assert again.entry.key == plan(engine, ["racy"])[0].key != before.key


# ------------------------------------------------------------------ case 2


def edit_meta(path: Path, change) -> None:
    """Change meta.json's content and write it back as valid JSON (its checksum kept)."""
    meta = json.loads(path.read_bytes())
    change(meta)
    path.write_text(json.dumps(meta, indent=2))


def test_an_edited_value_or_verdict_in_meta_is_caught_reported_once_and_rebuilt(
    fake_project,
) -> None:
    engine = fake_project()
    alpha, beta = (r.entry for r in build(engine, ["alpha", "beta"]))
    assert alpha is not None and beta is not None
    # One value and one claim verdict changed; both files still parse.
    edit_meta(alpha.files()["meta.json"], lambda meta: meta["values"].update(n_points=[7]))
    edit_meta(beta.files()["meta.json"], lambda meta: meta["claims"][1].update(verdict="holds"))
    for entry in (alpha, beta):
        with pytest.raises(CorruptEntryError, match=r"meta\.json does not match its own checksum"):
            read_figure_entry(engine, entry.name, entry.key)
    data_meta = entry_dir(engine, "data", "alpha", alpha.data_key) / "meta.json"
    edit_meta(data_meta, lambda meta: meta["params"].update(n=5))
    with pytest.raises(CorruptEntryError, match="own checksum"):
        read_data_entry(engine, "alpha", alpha.data_key)

    run = subprocess.run(
        cli_command(engine, "build", "alpha", "beta"), capture_output=True, text=True, timeout=300
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    for entry in (alpha, beta):
        # Once, and on one line: the path is never cut by wrapping.
        lines = [line for line in output.splitlines() if str(entry.path) in line]
        assert len(lines) == 1, output
        assert "does not match its own checksum" in lines[0]
    rebuilt_alpha = read_figure_entry(engine, "alpha", alpha.key)
    rebuilt_beta = read_figure_entry(engine, "beta", beta.key)
    assert rebuilt_alpha is not None and rebuilt_alpha.values["n_points"] == [6]
    assert rebuilt_beta is not None
    assert {c.name: c.holds for c in rebuilt_beta.claims} == {"positive": True, "huge": False}


# ------------------------------------------------------------------ case 10


HASHY = (
    '''"""Iterates over a set of strings: its order depends on the hash seed."""
from dataclasses import dataclass

from symbiote_core.figures.authoring.spec import Figure, Value


@dataclass(frozen=True)
class Params:
    seed: int = 0


def compute(p: Params) -> dict:
    return {"order": list({f"word{i}" for i in range(40)})}
'''
    + FIGURE_TAIL
)


def test_two_processes_build_bit_identical_data_even_from_a_set_of_strings(
    fake_project, spawned_workers
) -> None:
    engine = fake_project()
    (engine.root / "figs" / "hashy.py").write_text(HASHY)
    runs = []
    for _ in range(2):  # each build runs compute in a freshly spawned worker process
        (result,) = build(engine, ["hashy"], force=True)
        assert result.status == "computed" and result.entry is not None, result.error
        runs.append(result.entry.data_path.read_bytes())
    assert runs[0] == runs[1]


def test_a_worker_refuses_to_run_without_the_pinned_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    with pytest.raises(FigureError, match="PYTHONHASHSEED"):
        worker_module._check_worker_environment()
    with worker_module.worker_environment():
        assert os.environ["PYTHONHASHSEED"] == "0" and os.environ["OMP_NUM_THREADS"] == "1"
    assert "PYTHONHASHSEED" not in os.environ  # restored for the calling process


def test_a_script_restarts_itself_under_the_pinned_environment(tmp_path: Path) -> None:
    """`restart_with_pinned_env`, what the tuning and bench scripts call first."""
    script = tmp_path / "script.py"
    script.write_text(
        "import os, sys\n"
        "from symbiote_core.figures.engine.worker import PINNED_ENV, restart_with_pinned_env\n"
        "restart_with_pinned_env()\n"
        "print(all(os.environ.get(k) == v for k, v in PINNED_ENV.items()), sys.argv[1:])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in worker_module.PINNED_ENV}
    result = subprocess.run(
        [sys.executable, str(script), "--flag"], env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "True ['--flag']", result.stdout + result.stderr


def _in_worker_env(probe: str, *flags: str, **extra: str) -> subprocess.CompletedProcess:
    """`probe` run by a fresh interpreter in a worker's environment (plus `extra`)."""
    env = {**os.environ, **worker_module.WORKER_ENV, **extra}
    return subprocess.run(
        [sys.executable, *flags, "-c", probe], env=env, capture_output=True, text=True,
        check=True,
    )


def test_the_pinned_environment_pins_the_numerics_torch_uses() -> None:
    """A worker's torch runs the instruction set PINNED_ENV names, whatever the CPU has
    beyond it: the same commit then trains the same hosts on another machine."""
    probe = (
        "import torch; print(torch.backends.cpu.get_cpu_capability()); "
        "print(torch.get_num_threads())"
    )
    out = _in_worker_env(probe).stdout.split()
    pinned = worker_module.PINNED_ENV["ATEN_CPU_CAPABILITY"].upper()
    assert out[0] in (pinned, "DEFAULT"), out  # DEFAULT: a CPU without it falls back
    assert out[1] == "1"


def test_the_pinned_environment_puts_mkl_in_the_branch_it_names() -> None:
    """MKL runs the reproducibility branch PINNED_ENV names, on this machine's CPU.

    MKL accepts a branch it does not honour without an error: asked for AVX2 on an AMD
    CPU it runs its own path and says so only in its verbose log ("CNR:AUTO"), which gave
    an AMD machine other hosts than an Intel one. The log is where this looks.
    """
    import torch

    if "mkl" not in torch.__config__.show().lower():
        pytest.skip("this torch does not use MKL")
    probe = "import torch; torch.ones(64, 64) @ torch.ones(64, 64)"
    out = _in_worker_env(probe, MKL_VERBOSE="1").stdout
    calls = [line for line in out.splitlines() if "GEMM" in line]
    assert calls, out[-2000:]
    assert all(f"CNR:{worker_module.PINNED_ENV['MKL_CBWR']}" in line for line in calls), calls


PRODUCTS = (
    '''"""Multiplies two matrices the way every figure's training does."""
from dataclasses import dataclass

from symbiote_core.figures.authoring.spec import Figure, Value


@dataclass(frozen=True)
class Params:
    seed: int = 0


def compute(p: Params) -> dict:
    import numpy as np
    import torch

    a, b = torch.randn(64, 300), torch.randn(300, 50)
    return {"openblas": bool(np.array_equal((a @ b).numpy(), a.numpy() @ b.numpy()))}
'''
    + FIGURE_TAIL
)


def test_a_worker_computes_matrix_products_with_openblas(fake_project, spawned_workers) -> None:
    """The worker routes torch's products to OpenBLAS (`runtime.route_gemm_to_openblas`),
    the kernels PINNED_ENV pins for every vendor's CPU; MKL rounds this product otherwise
    (`tests/library/test_runtime_gemm_routing.py`)."""
    engine = fake_project()
    (engine.root / "figs" / "products.py").write_text(PRODUCTS)
    (result,) = build(engine, ["products"], force=True)
    assert result.status == "computed" and result.entry is not None, result.error
    assert json.loads(result.entry.data_path.read_bytes()) == {"openblas": True}


def test_the_pinned_environment_pins_numpys_kernels() -> None:
    """numpy's ufuncs dispatch to no level above AVX2 (X86_V3) and OpenBLAS runs its
    Haswell kernels, whatever the CPU has beyond them (on a CPU without AVX2 numpy falls
    back lower). What numpy dispatches to is a level among its `__cpu_dispatch__` targets
    that is on: a CPU's AVX-512 features can stay on (an AMD Zen 4 reports them) while
    every level that would use them is off."""
    probe = (
        "import numpy as np; from numpy._core import _multiarray_umath as m; "
        "print(sorted(t for t in m.__cpu_dispatch__ if m.__cpu_features__.get(t))); "
        "a = np.ones((64, 64)); a @ a"
    )
    # -W error: numpy warns, and carries on, when it cannot disable a feature it is told to.
    result = _in_worker_env(probe, "-W", "error", OPENBLAS_VERBOSE="2")
    assert result.stdout.splitlines()[-1] in ("['X86_V3']", "[]"), result.stdout
    assert f"Core: {worker_module.PINNED_ENV['OPENBLAS_CORETYPE']}" in result.stderr, result.stderr


# ------------------------------------------------------------------ orphaned workers


SLEEPY = (
    '''"""Computes for a few seconds."""
import time
from dataclasses import dataclass

from figs._shared import count_call
from symbiote_core.figures.authoring.spec import Figure, Value


@dataclass(frozen=True)
class Params:
    seed: int = 0


def compute(p: Params) -> dict:
    count_call("sleepy")
    time.sleep(4)
    return {"done": True}
'''
    + FIGURE_TAIL
)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_until(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout  # a limit on waiting, not a speed assertion
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_killing_the_cli_kills_its_worker_before_it_writes(fake_project, spawned_workers) -> None:
    engine = fake_project()
    (engine.root / "figs" / "sleepy.py").write_text(SLEEPY)
    marker = engine.root / "markers" / "sleepy.txt"
    process = subprocess.Popen(
        cli_command(engine, "build", "sleepy"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(marker.exists, "compute to start", 120)
        workers = [
            pid
            for pid in children(process.pid)
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert workers, "no worker process found"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    for pid in workers:
        wait_until(lambda pid=pid: not alive(pid), f"worker {pid} to exit", 10)
    time.sleep(5)  # past the end of compute: a surviving worker would have written by now
    assert not (engine.cache_dir / "out" / "sleepy").exists()
    assert not (engine.cache_dir / "data" / "sleepy").exists()
