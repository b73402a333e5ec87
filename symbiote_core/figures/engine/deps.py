"""Which project source files a figure module depends on, found by reading, not importing.

The cache key of a figure hashes these files, so the analysis must over- rather than
under-approximate what Python loads when the figure is imported and run:

- `import a.b.c` needs `a/__init__.py`, `a/b/__init__.py` and `a/b/c.py`;
  `from a.b import c` also needs `a/b/c.py` when `c` is a module; relative imports
  are resolved against the importing module; imports inside functions count (they
  run when compute runs), as do `importlib.import_module("literal")` and
  `__import__("literal")`. Imports under `if TYPE_CHECKING:` never run: skipped.
- Only modules of `Engine.project_packages` that resolve to files under `Engine.root`
  are followed. Third-party code is covered by library versions in the key, and the
  engine package itself by `keys.ENGINE_FORMAT`.

Lazy packages (PEP 562). A module-level `def __getattr__` runs only when someone asks
the package for an attribute it lacks, so its imports count only for the attributes
actually asked for: `from pkg import Name`, or `pkg.Name` / `pkg.sub.Name` on a name
bound by `import pkg...` (attribute chains are followed through submodules). What
`__getattr__` then loads:
- its literal imports (`from .heavy import Heavy` inside it), for any name;
- if it imports a computed name (`importlib.import_module(table[name])`), the project
  modules written as string literals in the same top-level statement as `"Name"`
  (e.g. `_export("pkg.mod", "Name")`, or one `"Name": "pkg.mod"` item of a dict),
  or every module string in the package's top-level code when `Name` is not found
  there. A package used as a bare value (`getattr(pkg, x)`, `f(pkg)`) counts as asking
  for everything, submodules included.
So `symbiote_core/__init__.py` can export names lazily without every figure depending
on the whole library. Names a package defines at top level never reach `__getattr__`.

Not seen: module names computed at run time outside a lazy package's tables, attribute
access on a module passed around as a value, and files a figure reads as data (keep
data in Python modules or pass it through params).
"""

from __future__ import annotations

import ast
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from symbiote_core.figures.engine import memo
from symbiote_core.figures.engine.memo import Stats, is_file, signature
from symbiote_core.figures.engine.registry import Engine

# One import effect, before it is checked against the file system:
#   ("require", module)         the module runs
#   ("from", base, name)        `from base import name`
#   ("chain", module, "a.b")    attributes read off a name bound to `module`
#   ("ask", module, name)       `module.__getattr__(name)` may run; name "*": any name
Effect = tuple[str, ...]
ANY = "*"


@dataclass
class ModuleSource:
    """One source file, read once and parsed once per analysis."""

    name: str
    path: Path
    source: bytes
    tree: ast.Module | None
    """None when the file does not parse: its bytes still count, its imports are unknown."""
    eager: list[Effect] = field(default_factory=list)
    """Effects that happen whenever the module runs (any import outside `__getattr__`)."""
    lazy: list[Effect] = field(default_factory=list)
    """Effects of the literal imports inside a module-level `__getattr__`."""
    dynamic: bool = False
    """Whether `__getattr__` imports a computed module name."""
    exports: dict[str, set[str]] = field(default_factory=dict)
    """Name -> module strings written beside it in top-level code (for dynamic packages)."""
    module_strings: set[str] = field(default_factory=set)
    defined: set[str] = field(default_factory=set)
    """Names bound at top level: asking for them never reaches `__getattr__`."""


class SourceCache:
    """Reads and parses each file at most once, shared by every figure of one `plan`.

    Every path it looks at goes through `stats` (one stat per path per plan, taken
    before the file is read); a file whose signature matches the one it had when it
    was last parsed, in an earlier plan of this process, is not read again
    (`memo.SOURCES`).
    """

    def __init__(self, engine: Engine, stats: Stats | None = None) -> None:
        self.engine = engine
        self.stats = stats or Stats()
        self._modules: dict[str, ModuleSource | None] = {}

    def module(self, name: str) -> ModuleSource | None:
        """The project module `name`, or None if it is not a project file under root."""
        if name not in self._modules:
            self._modules[name] = self._load(name)
        return self._modules[name]

    def file(self, name: str, probes: set[Path] | None = None) -> Path | None:
        """`module_file` through this plan's stats; the paths it checks go to `probes`."""
        return module_file(self.engine, name, self.stats, probes)

    def _load(self, name: str) -> ModuleSource | None:
        path = self.file(name)
        if path is None:
            return None
        memo_key = (self.engine, name, path)
        cached = memo.SOURCES.get(memo_key, self.stats)
        if cached is not None:
            return cached
        source = path.read_bytes()  # after `stats` saw it: see memo.Stats
        loaded = self._parse(name, path, source)
        memo.SOURCES.put(memo_key, loaded, [path], self.stats)
        return loaded

    def _parse(self, name: str, path: Path, source: bytes) -> ModuleSource:
        try:
            tree = ast.parse(source, filename=str(path))
        except (SyntaxError, ValueError):
            # A figure with a syntax error must still get a key (then fail in its worker
            # with Python's own message) rather than break planning for every figure.
            return ModuleSource(name, path, source, None)
        collector = _ImportCollector(name, path.name == "__init__.py", self.engine)
        collector.collect(tree)
        return ModuleSource(
            name,
            path,
            source,
            tree,
            eager=collector.eager,
            lazy=collector.lazy,
            dynamic=collector.dynamic,
            exports=collector.exports,
            module_strings=collector.module_strings,
            defined=collector.defined,
        )


def module_file(
    engine: Engine, name: str, stats: Stats | None = None, probes: set[Path] | None = None
) -> Path | None:
    """The file that `import name` would execute, if it is a tracked project module.

    `probes` collects every path whose existence decided the answer (the package's
    `__init__.py` and the plain module file): a file appearing there changes it.
    """
    if not is_tracked(engine, name):
        return None
    base = engine.root.joinpath(*name.split("."))
    package, plain = base / "__init__.py", base.parent / f"{base.name}.py"
    if probes is not None:
        probes.update((package, plain))
    look = stats or signature
    # A package directory wins over a same-named module, as in Python's path finder.
    if is_file(look(package)):
        return package
    return plain if is_file(look(plain)) else None


def is_tracked(engine: Engine, name: str) -> bool:
    parts = name.split(".")
    if not name or parts[0] not in engine.project_packages:
        return False
    if not all(part.isidentifier() for part in parts):
        return False
    pkg = engine.engine_package
    return not (name == pkg or name.startswith(pkg + "."))


def project_deps(
    engine: Engine, module_name: str, sources: SourceCache | None = None
) -> list[Path]:
    """Sorted files of the project modules `module_name` transitively imports (not itself)."""
    return [source.path for source in dependency_sources(engine, module_name, sources)]


def dependency_sources(
    engine: Engine,
    module_name: str,
    sources: SourceCache | None = None,
    probes: set[Path] | None = None,
) -> list[ModuleSource]:
    """Like `project_deps`, but the read sources (sorted by path), for hashing.

    `probes` receives every path the answer depends on: the files read, the paths whose
    absence was relied on, and the folders whose listing was read.
    """
    sources = sources or SourceCache(engine)
    probes = set() if probes is None else probes

    def files(name: str) -> Path | None:
        return sources.file(name, probes)

    required: set[str] = set()
    asked: dict[str, set[str]] = defaultdict(set)  # module -> names asked of its __getattr__
    queue: deque[Effect] = deque([("require", module_name)])

    while queue:
        effect = queue.popleft()
        kind, module = effect[0], effect[1]
        if kind == "require":
            if module in required:
                continue
            required.add(module)
            parts = module.split(".")
            queue.extend(("require", ".".join(parts[:i])) for i in range(1, len(parts)))
            files(module)  # records the probes of `module` for this figure
            source = sources.module(module)
            if source is not None:
                queue.extend(source.eager)
                for name in asked[module]:
                    queue.extend(_lazy_effects(files, probes, source, name))
        elif kind == "ask":
            name = effect[2]
            if name in asked[module]:
                continue
            asked[module].add(name)
            source = sources.module(module)
            if module in required and source is not None:
                queue.extend(_lazy_effects(files, probes, source, name))
            # Otherwise its lazy effects are queued once the module is required.
        elif kind == "from":
            queue.extend(_resolve_from(files, module, effect[2]))
        elif kind == "chain":
            queue.extend(_resolve_chain(files, module, effect[2]))

    found = {
        source.path: source
        for name in required
        if name != module_name and (source := sources.module(name)) is not None
    }
    return [found[path] for path in sorted(found)]


Files = Callable[[str], "Path | None"]
"""`module_file` bound to one plan and one figure's probes."""


def _resolve_from(files: Files, base: str, name: str) -> list[Effect]:
    if name == "*":
        return [("require", base), ("ask", base, ANY)]
    if files(f"{base}.{name}") is not None:
        return [("require", base), ("require", f"{base}.{name}")]
    # An attribute of `base`: it may come from base's lazy `__getattr__`.
    return [("require", base), ("ask", base, name)]


def _resolve_chain(files: Files, module: str, chain: str) -> list[Effect]:
    """`module.a.b...`: submodules on the way run; the first non-module name is asked for."""
    if files(module) is None:
        return []  # not a project module (or a plain object bound by `from x import Y`)
    if not chain:
        return [("ask", module, ANY)]  # the module used as a value: anything may be asked
    effects: list[Effect] = []
    current = module
    for attr in chain.split("."):
        sub = f"{current}.{attr}"
        if files(sub) is None:
            effects.append(("ask", current, attr))
            break
        effects.append(("require", sub))
        current = sub
    return effects


# Attributes every module has: asking for them never reaches `__getattr__`.
_MODULE_ATTRIBUTES = frozenset(
    {
        "__name__",
        "__file__",
        "__path__",
        "__spec__",
        "__loader__",
        "__package__",
        "__doc__",
        "__dict__",
        "__cached__",
        "__builtins__",
    }
)


def _lazy_effects(files: Files, probes: set[Path], source: ModuleSource, name: str) -> list[Effect]:
    """What `source.__getattr__(name)` may import."""
    if name in source.defined or name in _MODULE_ATTRIBUTES:
        return []
    effects = list(source.lazy)
    if not source.dynamic:
        return effects
    if name != ANY and name in source.exports:
        strings = source.exports[name]
    else:
        strings = source.module_strings
    effects += [("require", s) for s in sorted(strings) if files(s) is not None]
    if name == ANY and source.path.name == "__init__.py":
        # A computed submodule name (f"{__name__}.{name}"): any submodule may load.
        probes.add(source.path.parent)  # its listing: a new submodule changes the answer
        for child in sorted(source.path.parent.iterdir()):
            stem = child.stem if child.suffix == ".py" else child.name
            if stem != "__init__" and files(f"{source.name}.{stem}"):
                effects.append(("require", f"{source.name}.{stem}"))
    return effects


class _ImportCollector(ast.NodeVisitor):
    """Records the import effects of one module, split into eager and lazy ones."""

    def __init__(self, module: str, is_package: bool, engine: Engine) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.engine = engine
        self.eager: list[Effect] = []
        self.lazy: list[Effect] = []
        self.dynamic = False
        self.exports: dict[str, set[str]] = {}
        self.module_strings: set[str] = set()
        self.defined: set[str] = set()
        self._sink = self.eager
        self._in_hook = False
        # Names bound to (possibly) modules: name -> dotted module it refers to.
        self._bindings: dict[str, str] = {}

    def collect(self, tree: ast.Module) -> None:
        for node in tree.body:
            self._in_hook = (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == "__getattr__"
            )
            self._sink = self.lazy if self._in_hook else self.eager
            self.visit(node)
            self.defined |= _bound_names(node)
            self._record_strings(node)
        self._sink = self.eager
        self.defined.discard("__getattr__")
        for node in tree.body:
            is_hook = isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
            self._record_uses(node, self.lazy if is_hook else self.eager)

    # -- imports ----------------------------------------------------------------

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._sink.append(("require", alias.name))
            if alias.asname:
                self._bindings[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self._bindings[top] = top  # `import a.b.c` binds `a`

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node.module or "", node.level)
        if base is None:
            return
        for alias in node.names:
            self._sink.append(("from", base, alias.name))
            if alias.name != "*":
                # A module if `base.name` is one; resolved against files later.
                self._bindings[alias.asname or alias.name] = f"{base}.{alias.name}"

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if fname not in ("import_module", "__import__") or not node.args:
            return
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            if self._in_hook:
                self.dynamic = True  # resolved through the package's string tables
            return  # elsewhere a computed module name is not visible (see docstring)
        target: str | None = first.value
        if fname == "import_module" and first.value.startswith("."):
            target = self._relative_to_argument(first.value, node.args[1:2])
        if target is None:
            return
        bound = target if fname == "import_module" else target.split(".")[0]
        self._sink += [("require", target), ("ask", bound, ANY)]

    def _relative_to_argument(self, name: str, args: list[ast.expr]) -> str | None:
        """Resolve `import_module(".x", __name__ | __package__ | "pkg")`."""
        if not args:
            return None
        anchor = args[0]
        if isinstance(anchor, ast.Name) and anchor.id == "__name__":
            package = self.module
        elif isinstance(anchor, ast.Name) and anchor.id == "__package__":
            package = self.package
        elif isinstance(anchor, ast.Constant) and isinstance(anchor.value, str):
            package = anchor.value
        else:
            return None
        level = len(name) - len(name.lstrip("."))
        bits = package.rsplit(".", level - 1)
        if len(bits) < level:
            return None
        rest = name[level:]
        return f"{bits[0]}.{rest}" if rest else bits[0]

    def _absolute(self, module: str, level: int) -> str | None:
        if level == 0:
            return module
        parts = self.package.split(".") if self.package else []
        if level - 1 > len(parts):
            return None  # beyond the top-level package: Python raises ImportError too
        parts = parts[: len(parts) - (level - 1)]
        if module:
            parts.append(module)
        return ".".join(parts) or None

    # -- attribute use and string tables ----------------------------------------

    def _record_uses(self, statement: ast.stmt, sink: list[Effect]) -> None:
        """`mod.a.b` on a name bound by an import: which attributes are asked of whom."""
        parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(statement):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in ast.walk(statement):
            if not (isinstance(node, ast.Name) and node.id in self._bindings):
                continue
            if not isinstance(node.ctx, ast.Load):
                continue
            chain: list[str] = []
            current: ast.AST = node
            while isinstance(parent := parents.get(current), ast.Attribute):
                chain.append(parent.attr)
                current = parent
            sink.append(("chain", self._bindings[node.id], ".".join(chain)))

    def _record_strings(self, statement: ast.stmt) -> None:
        """Pair names with the module strings written beside them in top-level code."""
        if not isinstance(statement, ast.Expr | ast.Assign | ast.AnnAssign | ast.AugAssign):
            return
        value = statement.value
        if isinstance(value, ast.Dict):
            units: list[ast.AST] = [
                ast.Tuple(elts=[k, v], ctx=ast.Load())
                for k, v in zip(value.keys, value.values, strict=True)
                if k is not None
            ]
        else:
            units = [statement]
        for unit in units:
            strings = [
                node.value
                for node in ast.walk(unit)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            ]
            modules = {s for s in strings if is_tracked(self.engine, s)}
            self.module_strings |= modules
            for s in strings:
                if s.isidentifier() and s not in modules:
                    self.exports.setdefault(s, set()).update(modules)


def _bound_names(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in statement.names if a.name != "*"}
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
        targets = [statement.target]
    return {
        node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)
    }


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )
