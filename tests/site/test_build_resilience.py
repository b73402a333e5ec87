"""The site build survives what breaks around it: no plugin cache kills the build, a
failed build keeps the last site, two builds take turns, and `mkdocs serve` keeps
answering whatever breaks.

All on the small probe site (`support/mini.py`: one probe figure, one notebook), with
private figure and notebook caches per test (`mini_env(tmp_path)`).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.mini import mini_env
from support.project import ROOT, run_mkdocs
from support.serving import fetch, free_port, wait_for

RAISING_CELL = 'raise RuntimeError("sym" + "token")'  # the message, symtoken, is not in the source


def notebook_entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "notebooks").glob("*.json"))


def break_notebook(project: Path) -> int:
    """Make the notebook's code cell raise; returns the line of the raise in the .py."""
    notebook = project / "essay" / "notebooks" / "lab.py"
    text = notebook.read_text().replace("print(x)\n", f"print(x)\n{RAISING_CELL}\n")
    notebook.write_text(text)
    return text.splitlines().index(RAISING_CELL) + 1


def test_a_corrupt_notebook_cache_entry_is_reported_once_and_rebuilt(
    mini_project: Callable[..., Path], tmp_path: Path
) -> None:
    # The private caches are copies of the seed build's (`mini_env`), whose build of this
    # same default probe site wrote the notebook's entry: no build of our own is needed
    # first. The third build reading that file back as "cached" shows it was this site's.
    project, env = mini_project(), mini_env(tmp_path)
    (entry,) = notebook_entries(tmp_path)
    entry.write_bytes(entry.read_bytes()[:100])  # what a full disk left behind
    second = run_mkdocs(project, env=env)
    log = second.stdout + second.stderr
    assert second.returncode == 0, log
    assert log.count(f"corrupt notebook cache entry {entry}") == 1, log
    assert "Converting notebook" in log
    (rebuilt,) = notebook_entries(tmp_path)
    assert rebuilt == entry and len(rebuilt.read_bytes()) > 100
    third = run_mkdocs(project, env=env)
    assert "notebook essay/notebooks/lab.py: cached" in third.stdout + third.stderr


def test_a_raising_cell_is_reported_once_readably_and_keeps_the_previous_site(
    mini_project: Callable[..., Path], tmp_path: Path
) -> None:
    project, env = mini_project(), mini_env(tmp_path)
    good = run_mkdocs(project, env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    index = (project / "site" / "index.html").read_text()
    line = break_notebook(project)
    bad = run_mkdocs(project, env=env)
    log = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert log.count("symtoken") == 1, log  # printed once
    assert "\x1b[" not in log  # no terminal codes in a log that is not a terminal
    assert f"essay/notebooks/lab.py:{line}: a notebook cell raised" in log, log
    # The failed build left the last good site as it was, and no half-built folder.
    assert (project / "site" / "index.html").read_text() == index
    assert not list(project.glob(".site.*"))


def test_two_builds_at_once_take_turns_and_both_succeed(
    mini_project: Callable[..., Path], tmp_path: Path
) -> None:
    project, env = mini_project(), mini_env(tmp_path)
    command = [sys.executable, "-m", "mkdocs", "build", "--strict"]
    builds = [
        subprocess.Popen(
            command,
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [b.communicate(timeout=600)[0] for b in builds]
    assert [b.returncode for b in builds] == [0, 0], outputs
    assert sum("waiting for the other build" in out for out in outputs) == 1, outputs
    page = (project / "site" / "index.html").read_text()
    assert 'id="fig-probe"' in page
    assert (project / "site" / "notebooks" / "lab" / "index.html").is_file()
    assert not list(project.glob(".site.*"))


def test_make_clean_keeps_the_figure_cache() -> None:
    def commands(target: str) -> str:
        return subprocess.run(
            ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    clean = commands("clean")
    removed = [
        word for line in clean.splitlines() if line.startswith("rm ") for word in line.split()[2:]
    ]
    assert removed and not any(w in (".cache", ".cache/", ".cache/figures") for w in removed)
    assert "symbiote_core.figures clean" in commands("clean-figures")


# ------------------------------------------------------------------ mkdocs serve


@pytest.mark.slow
def test_serve_keeps_answering_when_a_notebook_raises_or_its_cache_is_corrupt(
    mini_project: Callable[..., Path], tmp_path: Path
) -> None:
    project, env = mini_project(), mini_env(tmp_path)
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mkdocs",
                "serve",
                "--dev-addr",
                f"127.0.0.1:{port}",
                "--livereload",
            ],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/"
    lab = base + "notebooks/lab/"
    try:
        wait_for(lambda: "sym-chart" in (fetch(base) or ""), "the first build", 300)
        wait_for(lambda: notebook_entries(tmp_path) != [], "the notebook's cache entry", 60)

        # A raising cell: its page shows the traceback; every page still answers.
        break_notebook(project)
        wait_for(lambda: "symtoken" in (fetch(lab) or ""), "the notebook's error page", 300)
        assert 'class="sym-error"' in (fetch(lab) or "")
        assert 'id="fig-probe"' in (fetch(base) or "")

        # Fixed, then its cache entry truncated: reported once, rebuilt, still answering.
        notebook = project / "essay" / "notebooks" / "lab.py"
        notebook.write_text(notebook.read_text().replace(RAISING_CELL + "\n", ""))
        wait_for(lambda: "symtoken" not in (fetch(lab) or "symtoken"), "the fixed page", 300)
        (entry,) = notebook_entries(tmp_path)
        entry.write_bytes(entry.read_bytes()[:50])
        notebook.write_text(notebook.read_text() + "\n")  # any save triggers a rebuild;
        notebook.write_text(notebook.read_text()[:-1])  # the same bytes, so the same key
        wait_for(
            lambda: "corrupt notebook cache entry" in log_path.read_text(),
            "the corrupt entry's report",
            300,
        )
        wait_for(lambda: entry.is_file() and entry.stat().st_size > 50, "the rebuilt entry", 300)
        assert "sym-error" not in (fetch(lab) or "sym-error")
        assert log_path.read_text().count(f"corrupt notebook cache entry {entry}") == 1
        assert server.poll() is None, "mkdocs serve died"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_under_serve_a_failing_hook_is_logged_once_and_the_build_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from symbiote_core.figures.site import hooks as mkdocs_hooks

    def broken() -> str:
        raise RuntimeError("hook broke " + "on purpose")  # the message is not in the source

    monkeypatch.setattr(mkdocs_hooks, "_command", "serve")
    with caplog.at_level("ERROR", logger="mkdocs.plugins.symbiote"):
        assert mkdocs_hooks._guard("on_files", broken, "fallback") == "fallback"
    assert len(caplog.records) == 1 and caplog.text.count("hook broke on purpose") == 1
    monkeypatch.setattr(mkdocs_hooks, "_command", "build")  # a build fails loudly instead
    with pytest.raises(RuntimeError, match="on purpose"):
        mkdocs_hooks._guard("on_files", broken, "fallback")
