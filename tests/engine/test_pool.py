"""The forkserver preload depends on private multiprocessing state: it must find it on
this Python, and fail loudly, naming the switch, where it is missing. torch is preloaded
and pinned only for figures whose sources import it."""

from __future__ import annotations

import subprocess
import types
from multiprocessing import forkserver

import pytest
from support.engine import cli_command

from symbiote_core.figures.engine import pool
from symbiote_core.figures.engine.build import load_entry
from symbiote_core.figures.engine.deps import SourceCache


def test_this_python_has_the_forkserver_internals() -> None:
    assert pool._process_forkserver(forkserver) is forkserver._forkserver


@pytest.mark.parametrize("server", [None, types.SimpleNamespace(_stop=lambda: None)])
def test_a_python_without_them_fails_naming_the_switch(server: object) -> None:
    fake = types.SimpleNamespace(_forkserver=server)
    with pytest.raises(RuntimeError, match=pool.PRELOAD_ENV):
        pool._process_forkserver(fake)


def test_workers_fork_preloaded_by_default_and_spawn_when_told(monkeypatch) -> None:
    monkeypatch.delenv(pool.PRELOAD_ENV, raising=False)
    assert pool._preloads()
    monkeypatch.setenv(pool.PRELOAD_ENV, "0")
    assert not pool._preloads()


def test_by_default_a_python_without_the_internals_spawns(monkeypatch) -> None:
    # Unasked, the preload is only a speed-up: its absence must not stop a build.
    monkeypatch.delenv(pool.PRELOAD_ENV, raising=False)
    monkeypatch.setattr(forkserver, "_forkserver", types.SimpleNamespace(_stop=lambda: None))
    assert not pool._preloads()
    monkeypatch.setenv(pool.PRELOAD_ENV, "1")
    assert pool._preloads()  # asked for: `_pool` then fails naming the switch


_FIGURE = '''
import {imports}
from dataclasses import dataclass

import altair as alt

from symbiote_core.figures.authoring.spec import Figure


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (1,)


def compute(params: Params) -> dict:
    {body}
    return {{"torch_loaded": "torch" in sys.modules}}


def render(data: dict) -> alt.Chart:
    return alt.Chart(alt.Data(values=[data])).mark_point().encode(x="torch_loaded:N")


FIGURE = Figure(
    title="Torch probe",
    caption="Whether torch was loaded.",
    alt="One point.",
    params=Params(),
    tuning_seeds=(),
    tuning_note="a test fixture: nothing was tuned",
    compute=compute,
    render=render,
)
'''


def _add_figure(engine, name: str, imports: str, body: str = "pass") -> None:
    path = engine.root / "figs" / f"{name}.py"
    path.write_text(_FIGURE.format(imports=imports, body=body))


def test_only_figures_that_import_torch_preload_and_pin_it(fake_project) -> None:
    engine = fake_project()
    _add_figure(engine, "plain", "sys")
    _add_figure(engine, "pinned", "sys\nimport torch")
    schedule = pool.schedule_for(engine, ["alpha", "plain", "pinned"], SourceCache(engine))
    assert schedule.torch_free == {"alpha", "plain"}


def test_a_figure_that_loads_torch_unseen_fails_and_one_that_does_not_never_loads_it(
    fake_project,
) -> None:
    # Built alone, in a fresh process: nothing preloads torch for these two workers.
    engine = fake_project()
    _add_figure(engine, "plain", "sys")
    _add_figure(engine, "hidden", "sys, importlib", 'importlib.import_module("to" + "rch")')
    run = subprocess.run(
        cli_command(engine, "build", "plain", "hidden"), capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert "'hidden'" in out and "add `import torch` to the figure module" in out
    assert load_entry(engine, "plain").data == {"torch_loaded": False}
