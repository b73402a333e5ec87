"""Code shown to readers runs exactly as written: the README's example and every essay
listing marked `<!-- runnable -->`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.project import ROOT

_MARKED_BLOCK = re.compile(r"<!-- (?:api-example|runnable)[^>]*-->\s*```python\n(.*?)```", re.S)


def listings() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "essay").rglob("*.md"))]:
        for i, block in enumerate(_MARKED_BLOCK.findall(path.read_text())):
            found.append((f"{path.relative_to(ROOT)}#{i + 1}", block))
    return found


def test_readme_and_essay_have_listings() -> None:
    names = [name for name, _ in listings()]
    assert any(n.startswith("README.md") for n in names)
    assert any(n.startswith("essay/") for n in names)


# The README's two examples run once each, with the checks of what they leave behind
# appended (a listing is run as written, then checked in the same process).
README_CHECKS = {
    "README.md#1": "\nassert steered.shape == (8, 20)\n",
    "README.md#2": """
import json, pathlib
assert logits.shape == (2, 10, 500)
index = json.loads(pathlib.Path("acts/index.json").read_text())
assert index["config"]["dtype"] == "bfloat16" and acts.n_rows < 64 * 16 * 32  # padding dropped
assert acts.n_shards == len(list(pathlib.Path("acts").glob("shard-*.safetensors"))) > 1
back = sc.load_saelens("my_sae")
x = torch.randn(5, 64)
assert torch.equal(back.encode(x), sae.encode(x))
""",
}
README_FILES = {
    "README.md#1": ("my_dictionary/cfg.json", "my_dictionary/model.safetensors"),
    "README.md#2": ("my_sae/sae_weights.safetensors",),
}


def run_listing(name: str, code: str, folder: Path) -> None:
    script = folder / "listing.py"
    script.write_text(code + README_CHECKS.get(name, ""))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stderr}"
    for file in README_FILES.get(name, ()):
        assert (folder / file).exists(), f"{name} wrote no {file}"


@pytest.mark.parametrize(("name", "code"), listings(), ids=[n for n, _ in listings()])
def test_listing_runs(name: str, code: str, tmp_path: Path) -> None:
    """Each listing as written; the README's two (a dictionary saved, a Hugging Face
    model streamed and exported) also leave what their text says they do."""
    run_listing(name, code, tmp_path)


def test_the_readme_has_both_examples() -> None:
    """The README's library section: a dictionary example, then a Hugging Face one
    (their checks are `README_CHECKS`)."""
    names = [name for name, _ in listings() if name.startswith("README.md")]
    assert set(README_CHECKS) <= set(names), names
