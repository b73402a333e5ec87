"""The README's library example runs exactly as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_readme_api_example_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- api-example.*?-->\s*```python\n(.*?)```", readme, flags=re.S)
    assert match, "README lost its api-example block"
    script = tmp_path / "example.py"
    script.write_text(match.group(1) + "\nassert steered.shape == (8, 20)\nprint('ok')\n")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "my_dictionary" / "cfg.json").exists()
