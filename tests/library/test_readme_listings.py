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


@pytest.mark.parametrize(("name", "code"), listings(), ids=[n for n, _ in listings()])
def test_listing_runs(name: str, code: str, tmp_path: Path) -> None:
    script = tmp_path / "listing.py"
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stderr}"


def test_readme_example_saves_a_dictionary(tmp_path: Path) -> None:
    (_, code), *_ = [item for item in listings() if item[0].startswith("README.md")]
    script = tmp_path / "example.py"
    script.write_text(code + "\nassert steered.shape == (8, 20)\n")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "my_dictionary" / "cfg.json").exists()
    assert (tmp_path / "my_dictionary" / "model.safetensors").exists()


def test_readme_hugging_face_example_streams_and_exports(tmp_path: Path) -> None:
    blocks = [item for item in listings() if item[0].startswith("README.md")]
    assert len(blocks) >= 2, "the README's library section has a Hugging Face example"
    _, code = blocks[1]
    script = tmp_path / "example.py"
    checks = """
import json, pathlib
assert logits.shape == (2, 10, 500)
index = json.loads(pathlib.Path("acts/index.json").read_text())
assert index["config"]["dtype"] == "bfloat16" and acts.n_rows < 64 * 16 * 32  # padding dropped
assert acts.n_shards == len(list(pathlib.Path("acts").glob("shard-*.safetensors"))) > 1
back = sc.load_saelens("my_sae")
x = torch.randn(5, 64)
assert torch.equal(back.encode(x), sae.encode(x))
"""
    script.write_text(code + checks)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "my_sae" / "sae_weights.safetensors").exists()
