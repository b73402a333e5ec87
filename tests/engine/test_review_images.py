"""Figures reviewed as pictures (`figures diff REV --images DIR`, `review.py`), on the
fake project in a throwaway git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image
from support.engine import cli_args, edit

from symbiote_core.figures import cli
from symbiote_core.figures.engine.build import build


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_a_changed_picture_gets_a_before_after_image_and_an_unchanged_one_none(
    fake_project, tmp_path: Path, capsys
) -> None:
    engine = fake_project()
    root = engine.root
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v1")
    assert all(r.ok for r in build(engine, ["alpha", "beta"]))
    # A render-only edit to alpha (its line becomes points) and a caption edit to beta.
    edit(root / "figs" / "alpha.py", "mark_line()", "mark_point(size=200)")
    beta = (root / "figs" / "beta.py").read_text()
    caption = beta.split('caption="', 1)[1].split('"', 1)[0]
    edit(root / "figs" / "beta.py", f'caption="{caption}"', 'caption="Another caption."')
    assert all(r.ok for r in build(engine, ["alpha", "beta"]))
    out = tmp_path / "images"
    args = cli_args(engine, "diff", "HEAD", "--markdown", "--images", str(out))
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["alpha.png"]  # beta looks the same
    assert "`alpha`" in printed and "pixels changed" in printed and "`beta`:" not in printed
    sheet = Image.open(out / "alpha.png").convert("RGB")
    pixels = np.asarray(sheet)
    assert (pixels == (220, 30, 30)).all(axis=2).sum() > 0  # the changed pixels are marked
    single = (sheet.width - 24) // 3
    assert sheet.width == 3 * single + 24
