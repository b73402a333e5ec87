"""Issue 21: the figure cache reached through `$SYMBIOTE_FIGURE_CACHE` set to a URL.

The variable is parsed where the flag is (`settings.resolve_cache`): a URL stays a
URL (it once became `<cwd>/file:/...`, a local folder inside the checkout). These
tests set only the variable, to a `file://` URL (fsspec's local file system, as a
shared folder is reached) and to `memory://` (a store inside one process, which no
figure worker can reach, refused up front with the reason), and build, list, clean
and serve through it: the CLI on the fake project, MkDocs on the small site.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.engine import FIXTURE
from support.project import mkdocs_env
from support.serving import fetch, free_port, wait_for

from symbiote_core.figures.engine.build import build
from symbiote_core.figures.engine.registry import Engine, FigureError
from symbiote_core.figures.engine.settings import CACHE_ENV

MEMORY = "memory://symbiote-figures"


def figures(root: Path, cache: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with the cache given by the variable only (no --cache-dir)."""
    env = {**os.environ, CACHE_ENV: cache}
    return subprocess.run(
        [sys.executable, "-m", "symbiote_core.figures", "--root", str(root),
         "--figures-package", "figs", "--project-packages", "figs,lib", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=300)


def status_of(listing: str, name: str) -> str:
    (row,) = [line for line in listing.splitlines() if re.search(rf"\b{name}\b", line)]
    return row.split("│")[-2].strip() if "│" in row else row.split()[-1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return root


def test_a_file_url_in_the_variable_is_where_build_list_and_clean_go(
    project: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared" / "figures"
    url = shared.as_uri()
    built = figures(project, url, "build", "alpha")
    assert built.returncode == 0, built.stdout + built.stderr
    assert len(list(shared.glob("out/alpha/*/meta.json"))) == 1
    assert len(list(shared.glob("data/alpha/*/meta.json"))) == 1
    # Nothing landed in a local folder named after the URL, nor in the default cache.
    assert not list(project.rglob("file:*")) and not (project / ".cache" / "figures").exists()
    listed = figures(project, url, "list")
    assert listed.returncode == 0, listed.stderr
    assert status_of(listed.stdout, "alpha") == "cached", listed.stdout
    assert status_of(listed.stdout, "beta") == "stale", listed.stdout
    # The flag is parsed by the same code: the same listing.
    flagged = figures(project, str(tmp_path / "elsewhere"), "--cache-dir", url, "list")
    assert flagged.stdout == listed.stdout
    cleaned = figures(project, url, "clean", "alpha")
    assert cleaned.returncode == 0, cleaned.stderr
    assert f"removed 2 cache entries under {url}" in cleaned.stdout, cleaned.stdout
    assert not list(shared.glob("*/alpha/*/meta.json"))
    assert status_of(figures(project, url, "list").stdout, "alpha") == "stale"


def test_a_memory_url_is_refused_up_front_with_the_reason(project: Path) -> None:
    for command in (["build", "alpha"], ["list"], ["clean"]):
        result = figures(project, MEMORY, *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        (line,) = result.stderr.strip().splitlines()  # one line, no traceback
        assert line.startswith(f"error: figure cache {MEMORY} is fsspec's in-memory store")
        assert "its own worker process" in line and "file:///" in line
        assert "wrote no entry" not in result.stdout + result.stderr
    assert not (project / "markers").exists(), "no figure ran"
    engine = Engine(root=project, figures_package="figs", project_packages=("figs", "lib"),
                    cache_dir=MEMORY)
    with pytest.raises(FigureError, match="in-memory store"):
        build(engine, ["alpha"])


# ------------------------------------------------------------------ MkDocs


def test_mkdocs_refuses_a_memory_cache_in_build_and_serve(
    mini_project: Callable[..., Path], tmp_path: Path
) -> None:
    project = mini_project()
    env = {**mkdocs_env(tmp_path / "unused"), CACHE_ENV: MEMORY}
    for command in (["build", "--strict"], ["serve", "--dev-addr", f"127.0.0.1:{free_port()}"]):
        result = subprocess.run([sys.executable, "-m", "mkdocs", *command], cwd=project,
                                env=env, capture_output=True, text=True, timeout=300)
        log = result.stdout + result.stderr
        assert result.returncode != 0, log  # serve stops instead of serving without figures
        assert log.count("is fsspec's in-memory store") == 1, log
        assert "Traceback" not in log, log
        assert "computing" not in log  # refused before any figure ran


@pytest.mark.slow
def test_mkdocs_serve_reads_and_writes_a_file_url_cache(
    mini_project: Callable[..., Path], tmp_path: Path
) -> None:
    project = mini_project()
    shared = tmp_path / "shared"
    env = {**mkdocs_env(tmp_path / "unused"), CACHE_ENV: shared.as_uri()}
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}"],
            cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: "sym-chart" in (fetch(base) or ""), "the first build", 600)
        spec = fetch(base + "figures/probe/spec.json")
        assert spec is not None and "vega-lite" in spec
        assert server.poll() is None, log_path.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert len(list(shared.glob("out/probe/*/meta.json"))) == 1, log_path.read_text()
    assert not (tmp_path / "unused").exists() and not list(project.rglob("file:*"))
