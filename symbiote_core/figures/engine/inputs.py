"""A figure's declared input files, read from its source and resolved to hashed files.

`Figure(inputs=...)` (see `authoring/inputs.py`) is read from the `FIGURE = Figure(...)`
call without importing the module: string literals, `Package(...)` calls with string
arguments, tuples or lists of those, and names bound to them at the module's top level.
Each entry resolves to files:

- a path under the root: that file; a folder: every file under it; a glob: its matches;
- `Package(distribution, pattern)`: the files of the installed distribution whose RECORD
  path matches the pattern, named `<distribution>==<version>/<path>` in the key.

Every file's sha256 enters the data key. A declaration that cannot be read or resolved
(not literal, a missing file, a path outside the root, an uninstalled package) is a
*problem*: the figure still gets keys, and its worker fails with the problem's text, so
one broken declaration never stops the planning of the other figures.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from symbiote_core.figures.engine import memo
from symbiote_core.figures.engine.memo import Stats, is_file
from symbiote_core.figures.engine.registry import Engine, find_figure_call

_GLOB = set("*?[")


@dataclass(frozen=True)
class Declared:
    """One declared entry, as written."""

    path: str | None = None
    """A path under the root (file, folder or glob)."""
    distribution: str | None = None
    pattern: str | None = None

    def label(self) -> str:
        if self.path is not None:
            return self.path
        return f"Package({self.distribution!r}, {self.pattern!r})"


@dataclass(frozen=True)
class InputFile:
    """One resolved input file."""

    name: str
    """Its name in the key: the root-relative path, or `<dist>==<version>/<path>`."""
    path: Path
    """The absolute, resolved file."""
    sha256: str


@dataclass(frozen=True)
class Inputs:
    files: tuple[InputFile, ...] = ()
    declared: tuple[Declared, ...] = ()
    problem: str | None = None

    def key_lines(self) -> bytes:
        """What the data key hashes: every file's name and digest, and any problem."""
        lines = [f"{f.name}\0{f.sha256}" for f in self.files]
        if self.problem is not None:
            lines.append(f"problem\0{self.problem}")
        return "\n".join(lines).encode()


class DeclarationError(ValueError):
    """An `inputs=` the build cannot read from the source."""


def declared(tree: ast.Module | None) -> tuple[Declared, ...]:
    """The `inputs=` entries of the module's `FIGURE = Figure(...)`, read statically."""
    if tree is None:
        return ()
    call = find_figure_call(tree)
    if call is None:
        return ()
    value = next((k.value for k in call.keywords if k.arg == "inputs"), None)
    if value is None:
        return ()
    constants = {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    }
    return tuple(_entries(value, constants, depth=0))


def _entries(node: ast.expr, constants: dict[str, ast.expr], depth: int) -> list[Declared]:
    if depth > 8:
        raise DeclarationError("inputs: names refer to each other too deeply")
    if isinstance(node, ast.Tuple | ast.List):
        return [e for element in node.elts for e in _entries(element, constants, depth + 1)]
    if isinstance(node, ast.Name) and node.id in constants:
        return _entries(constants[node.id], constants, depth + 1)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [Declared(path=node.value)]
    if isinstance(node, ast.Call):
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        args = dict(zip(("distribution", "pattern"), node.args, strict=False))
        args.update({k.arg: k.value for k in node.keywords if k.arg})
        strings = {
            key: value.value
            for key, value in args.items()
            if isinstance(value, ast.Constant) and isinstance(value.value, str)
        }
        if fname == "Package" and set(strings) == {"distribution", "pattern"} == set(args):
            return [Declared(distribution=strings["distribution"], pattern=strings["pattern"])]
    raise DeclarationError(
        f"inputs: cannot read {ast.unparse(node)!r} without importing the module (line "
        f"{getattr(node, 'lineno', '?')}); write paths as string literals and packages as "
        "Package('distribution', 'pattern'), or names bound to those at top level"
    )


def resolve(
    engine: Engine, tree: ast.Module | None, stats: Stats, probes: set[Path]
) -> Inputs:
    """The declared files of a figure module, hashed; `probes` gets every path whose
    change could change the answer (files, folders listed, a package's RECORD)."""
    try:
        entries = declared(tree)
    except DeclarationError as error:
        return Inputs(problem=str(error))
    files: dict[Path, InputFile] = {}
    try:
        for entry in entries:
            found = (
                _root_files(engine, entry.path, stats, probes)
                if entry.path is not None
                else _package_files(entry, stats, probes)
            )
            files.update((f.path, f) for f in found)
    except DeclarationError as error:
        return Inputs(declared=entries, problem=str(error))
    ordered = tuple(sorted(files.values(), key=lambda f: f.name))
    return Inputs(files=ordered, declared=entries)


def _root_files(
    engine: Engine, declared_path: str, stats: Stats, probes: set[Path]
) -> list[InputFile]:
    relative = PurePosixPath(declared_path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise DeclarationError(
            f"inputs: {declared_path!r} must be a path relative to the repository root, "
            "inside it"
        )
    if _GLOB & set(declared_path):
        base = engine.root.joinpath(*_literal_prefix(relative).parts)
        _watch_tree(base, stats, probes)
        paths = sorted(p for p in engine.root.glob(declared_path) if p.is_file())
        if not paths:
            raise DeclarationError(f"inputs: {declared_path!r} matches no file")
    else:
        target = engine.root.joinpath(*relative.parts)
        probes.add(target)
        if target.is_dir():
            _watch_tree(target, stats, probes)
            paths = sorted(p for p in target.rglob("*") if p.is_file())
        elif is_file(stats(target)):
            paths = [target]
        else:
            raise DeclarationError(f"inputs: {declared_path!r} does not exist")
    found = []
    for path in paths:
        resolved = path.resolve()
        if not resolved.is_relative_to(engine.root):
            raise DeclarationError(f"inputs: {path} leads outside the repository root")
        probes.add(path)
        found.append(InputFile(engine.relative(path), resolved, file_digest(path, stats)))
    return found


def _package_files(entry: Declared, stats: Stats, probes: set[Path]) -> list[InputFile]:
    assert entry.distribution is not None and entry.pattern is not None
    try:
        dist = importlib.metadata.distribution(entry.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise DeclarationError(
            f"inputs: {entry.label()}: no installed distribution {entry.distribution!r}"
        ) from None
    listed = dist.files
    if listed is None:
        raise DeclarationError(f"inputs: {entry.label()}: the distribution lists no files")
    version = f"{dist.metadata['Name']}=={dist.version}"
    found = []
    for record in listed:
        # Matched before it is located: torch lists some 15,000 files.
        matches = fnmatch.fnmatchcase(record.as_posix(), entry.pattern)
        if not matches and record.name != "RECORD":
            continue
        where = Path(str(dist.locate_file(record)))
        probes.add(where)  # RECORD: another version installed has another RECORD
        if not matches:
            continue
        if not is_file(stats(where)):
            raise DeclarationError(f"inputs: {entry.label()}: {where} is missing")
        found.append(
            InputFile(f"{version}/{record.as_posix()}", where.resolve(), file_digest(where, stats))
        )
    if not found:
        raise DeclarationError(f"inputs: {entry.label()} matches no file of {version}")
    return found


def _literal_prefix(pattern: PurePosixPath) -> PurePosixPath:
    parts = []
    for part in pattern.parts:
        if _GLOB & set(part):
            break
        parts.append(part)
    return PurePosixPath(*parts)


def _watch_tree(base: Path, stats: Stats, probes: set[Path]) -> None:
    """Every folder under `base`: a file appearing in any of them changes its listing."""
    probes.add(base)
    if base.is_dir():
        probes.update(p for p in base.rglob("*") if p.is_dir())


def file_digest(path: Path, stats: Stats) -> str:
    """sha256 of a file, memoised on its signature (`memo.py`): a large corpus is hashed
    again only when it changes."""
    memo_key = ("file digest", path)
    digest = memo.DIGESTS.get(memo_key, stats)
    if digest is None:
        stats(path)  # before reading: see memo.Stats
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        memo.DIGESTS.put(memo_key, digest, [path], stats)
    return digest
