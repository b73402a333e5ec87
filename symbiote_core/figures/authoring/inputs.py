"""Files a figure reads at run time, declared on its `Figure(inputs=...)`.

    from symbiote_core.figures.authoring.inputs import Package

    FIGURE = Figure(..., inputs=("data/corpus.txt", Package("six", "six.py")))

An entry is either a path relative to the repository root (a file; a folder, meaning
every file under it; or a glob such as `"data/*.csv"`), or `Package(distribution,
pattern)`: the files of an installed distribution whose path in its RECORD matches a
shell-style pattern (`*` spans folders), such as the Python source of a pinned package
used as a corpus. Compute finds and reads the files itself; the declaration says which
files it may read, and their bytes (and a package's version) enter the figure's data
key, so editing a declared file recomputes the figure.

The build reads the declaration from the module's source without importing it, so
write it literally: strings and `Package(...)` calls with string arguments, or names
bound to those at the module's top level. While a figure is built, reading a file under
the root that is not declared, or (from the project's own code) a file of an installed
package, fails the build and names the file (`engine/reads.py`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Package:
    """Files of an installed distribution, by a pattern over their RECORD paths."""

    distribution: str
    """The distribution's name, as pip knows it (`"six"`, `"attrs"`)."""
    pattern: str
    """Shell-style, over paths in the distribution's RECORD: `"six.py"`, `"attr/*.py"`."""


Input = str | Package
"""One declared input: a path under the root, or files of an installed package."""
