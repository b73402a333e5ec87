"""What project code a figure can run, found by reading, not importing.

The cache keys hash what this module finds, so it must over- rather than under-
approximate. It answers two questions in one fixpoint over the source:

Files: which project modules run. `import a.b.c` needs `a/__init__.py`, `a/b/__init__.py`
and `a/b/c.py`; `from a.b import c` also needs `a/b/c.py` when `c` is a module; relative
imports are resolved against the importing module; `importlib.import_module("literal")`
and `__import__("literal")` count. Imports under `if TYPE_CHECKING:` never run: skipped.
An import inside a function counts when that function can run (below).

Parts: which parts of those files can run. A module is split into its top-level
statements. A top-level `def` or `class` is a *part* named by the name it binds; every
other statement (assignments, imports, `if` blocks, calls) runs whenever the module runs
and always counts, as module-level state does. A part counts when its name is
*mentioned* by code that counts, in any module: a name, an attribute (`mod.f`, `obj.f`),
a keyword argument, a dotted-identifier string (`getattr(x, "f")`), or the original of an
import alias (`from m import f as g` then `g`). Names are matched across modules
(`f` anywhere reaches every top-level `f`), so a function reached only through another
module, or a builtin shadowed by a new top-level `def max`, counts. What runs at import
counts even when the part does not: a class statement without its method bodies, and
the decorators, non-literal defaults and evaluated annotations of a `def` (a `def` with
none of these, an *inert* def, only binds its name). A part counts whenever its module
runs when Python or a registry can reach it without its name: decorated by anything
but a known transparent decorator (`TRANSPARENT`: it may register the object), a
class with keywords (`metaclass=`) or derived from a project class that defines
`__init_subclass__`, and dunder functions (`__getattr__`, `__dir__`). A class counts
whole (every method body), since third-party code calls methods by names the project
never writes (`forward`). A module whose counted code calls `globals()` or a no-argument
`vars()`/`dir()`/`locals()`, or which is used as a value (`getattr(mod, name)`,
`f(mod)`, `mod.__dict__`, `from mod import *`), counts whole.

So adding a function nobody mentions changes nothing; editing code that can run, or
module-level state, or anything a registry or Python can reach, does. What a name
cannot show (an attribute name computed at run time, `eval`) the worker catches: it
records which parts ran (`imports.py`) and refuses to store data that ran a part its
key does not cover.

Layers. Only modules of `Engine.project_packages` under `Engine.root` are followed.
Inside the engine package, the authoring layer (`Engine.authoring_package`: the palette,
claim wording) is followed like library code, and `Engine.render_only` (the `Figure`
spec, which the engine itself consumes around compute, versioned by
`keys.ENGINE_FORMAT`) only for the render key; the engine and site internals never.
For the data key, a figure is followed from its compute side (`sides.py`), and a figure
module another figure imports is read without its `FIGURE` call's `render` argument.

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
  there; the identifier strings of that statement count as mentioned (an alias table
  entry `{"public": "attr"}` mentions `attr`). Strings elsewhere in such a package's
  top-level code, and in `__all__`, are not mentions.
Names a package defines at top level never reach `__getattr__`.

Not seen statically: module names computed at run time outside a lazy package's tables
(the worker refuses to store what they load) and files a figure reads as data (declare
them: `inputs.py`).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from symbiote_core.figures.engine import memo
from symbiote_core.figures.engine.memo import Stats, is_file, signature
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.sides import data_tree, strip_docstrings

# One import effect, before it is checked against the file system:
#   ("require", module)         the module runs
#   ("from", base, name)        `from base import name`
#   ("chain", module, "a.b")    attributes read off a name bound to `module`
#   ("ask", module, name)       `module.__getattr__(name)` may run; name "*": any name
Effect = tuple[str, ...]
ANY = "*"

Layer = Literal["data", "render"]
"""Which key a closure is for: `data` follows what compute can reach, `render` what the
whole figure module can reach, `Engine.render_only` included."""

TRANSPARENT = frozenset(
    {
        "dataclasses.dataclass",
        "contextlib.contextmanager",
        "functools.cache",
        "functools.lru_cache",
        "functools.cached_property",
        "torch.no_grad",
        "torch.inference_mode",
        "torch.enable_grad",
        "typing.runtime_checkable",
        "typing.final",
        "abc.abstractmethod",
        "builtins.property",
        "builtins.staticmethod",
        "builtins.classmethod",
    }
)
"""Decorators that wrap or mark what they decorate and keep no reference to it: a part
decorated only by these counts when its name is mentioned, like an undecorated one."""

_INTROSPECTION = frozenset({"globals", "vars", "dir", "locals"})
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Part:
    """One top-level statement of a module, as the keys see it."""

    name: str | None
    """The name a top-level `def` or `class` binds; None for any other statement."""
    always: bool
    """Counts whenever its module runs (every statement that is not a def or class, and
    defs or classes that Python or a registry may reach without their name)."""
    full: bytes
    """Normalised dump of the whole statement (no docstrings, no positions)."""
    stub: bytes | None
    """Dump of what runs at import when the part itself does not count (decorators,
    defaults, annotations; a class without its method bodies); None for an inert def."""
    refs: frozenset[str]
    stub_refs: frozenset[str]
    effects: tuple[Effect, ...]
    stub_effects: tuple[Effect, ...]
    introspects: bool = False
    """Calls `globals()` (or `vars()`, `dir()`, `locals()` without an argument)."""
    bases: frozenset[str] = frozenset()
    """A class's base names (for `__init_subclass__` hooks)."""
    hooks_subclasses: bool = False
    """A class that defines `__init_subclass__`."""


@dataclass
class ModuleSource:
    """One source file, read once and parsed once per analysis."""

    name: str
    path: Path
    source: bytes
    tree: ast.Module | None
    """None when the file does not parse: its bytes still count, its imports are unknown."""
    parts: tuple[Part, ...] = ()
    lazy: list[Effect] = field(default_factory=list)
    """Effects of the literal imports inside a module-level `__getattr__`."""
    dynamic: bool = False
    """Whether `__getattr__` imports a computed module name."""
    exports: dict[str, set[str]] = field(default_factory=dict)
    """Name -> module strings written beside it in top-level code (for dynamic packages)."""
    export_names: dict[str, set[str]] = field(default_factory=dict)
    """Name -> identifier strings written beside it in top-level code (dynamic packages)."""
    module_strings: set[str] = field(default_factory=set)
    defined: set[str] = field(default_factory=set)
    """Names bound at top level: asking for them never reaches `__getattr__`."""
    aliases: dict[str, set[str]] = field(default_factory=dict)
    """`from m import name as alias` anywhere in the module: alias -> names."""
    sides: dict[bool, tuple[ast.Module | None, ModuleSource]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """`compute_side`'s answers, kept with the parse they come from (`memo.SOURCES`
    reuses both until the file changes): a plan after an edit elsewhere (`mkdocs serve`)
    does not cut every figure's compute side again."""

    def compute_side(self, engine: Engine, imported: bool) -> tuple[ast.Module | None, ModuleSource]:
        """This figure module's compute side (`sides.data_tree`) and its parse (itself
        when the module does not parse or has no compute side)."""
        if imported not in self.sides:
            tree = data_tree(self.tree, imported=imported)
            parsed = self if tree is None else parse_module(
                engine, self.name, self.path, self.source, tree
            )
            self.sides[imported] = (tree, parsed)
        return self.sides[imported]

    @property
    def eager(self) -> list[Effect]:
        """Every effect outside `__getattr__`, wherever it is in the module."""
        return [effect for part in self.parts for effect in part.effects]

    def digest(self, reached: Iterable[int] | None) -> bytes:
        """The normalised dump of what counts, given the indices of the parts reached
        (None: all): counted statements whole and in order, the rest as their stubs."""
        if self.tree is None:
            return self.source
        chosen = set(range(len(self.parts))) if reached is None else set(reached)
        pieces: list[bytes] = []
        for index, part in enumerate(self.parts):
            if part.always or index in chosen:
                pieces.append(b"F" + part.full)
            elif part.stub is not None:
                pieces.append(b"S" + part.stub)
        return b"\n".join(pieces)


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

    def compute_side(self, name: str) -> ModuleSource | None:
        """Figure module `name` without its `FIGURE` call's `render` argument
        (`sides.py`), for the data key of another figure that imports it."""
        module = self.module(name)
        return None if module is None else module.compute_side(self.engine, imported=True)[1]

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
        loaded = parse_module(self.engine, name, path, source)
        memo.SOURCES.put(memo_key, loaded, [path], self.stats)
        return loaded


def parse_module(
    engine: Engine, name: str, path: Path, source: bytes, tree: ast.Module | None = None
) -> ModuleSource:
    """Split a module into parts and collect its import effects (`tree`: a parse of
    `source` to use instead, such as a figure module without its render side)."""
    if tree is None:
        try:
            tree = ast.parse(source, filename=str(path))
        except (SyntaxError, ValueError):
            # A figure with a syntax error must still get a key (then fail in its worker
            # with Python's own message) rather than break planning for every figure.
            return ModuleSource(name, path, source, None)
        clean = ast.parse(source)  # several times faster than a deep copy
    else:
        clean = copy.deepcopy(tree)
    strip_docstrings(clean)  # they never change what code does
    collector = _Collector(name, path.name == "__init__.py", engine, tree, clean)
    return ModuleSource(
        name,
        path,
        source,
        tree,
        parts=collector.parts,
        lazy=collector.lazy,
        dynamic=collector.dynamic,
        exports=collector.exports,
        export_names=collector.export_names,
        module_strings=collector.module_strings,
        defined=collector.defined,
        aliases=collector.aliases,
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


def is_tracked(engine: Engine, name: str, layer: Layer = "render") -> bool:
    """Whether module `name` is project code whose source a `layer` key follows."""
    parts = name.split(".")
    if not name or parts[0] not in engine.project_packages:
        return False
    if not all(part.isidentifier() for part in parts):
        return False
    if not _inside(name, engine.engine_package):
        return True
    if not _inside(name, engine.authoring_package):
        return False  # the engine and the site: versioned by keys.ENGINE_FORMAT
    return layer == "render" or not any(_inside(name, m) for m in engine.render_only)


def is_figure(engine: Engine, name: str) -> bool:
    """Whether module `name` is a figure module (`<figures_package>.<name>`, no `_`)."""
    package, _, stem = name.rpartition(".")
    return package == engine.figures_package and stem.isidentifier() and not stem.startswith("_")


def is_library(engine: Engine, name: str) -> bool:
    """Project code outside the engine package (what a worker imports from the root)."""
    return is_tracked(engine, name) and not _inside(name, engine.engine_package)


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@dataclass
class Closure:
    """What a figure can run: the modules, and in each the parts that count."""

    modules: list[ModuleSource]
    """Sorted by path; the root module itself is not among them."""
    reached: dict[str, frozenset[int]]
    """Module name -> indices of its parts that count (the root's: all of them)."""

    def digest(self, source: ModuleSource) -> bytes:
        return source.digest(self.reached.get(source.name, frozenset()))

    def part_names(self, name: str, source: ModuleSource) -> frozenset[str]:
        """Names of the parts of module `name` that count."""
        reached = self.reached.get(name, frozenset())
        return frozenset(
            part.name
            for index, part in enumerate(source.parts)
            if part.name is not None and (part.always or index in reached)
        )


def dependency_sources(
    engine: Engine,
    module_name: str,
    sources: SourceCache | None = None,
    probes: set[Path] | None = None,
) -> list[ModuleSource]:
    """The project modules `module_name` may import, transitively (not itself), sorted
    by path, every part of every module counted: a module-level analysis (what the
    artifact cache keys on)."""
    return closure(engine, module_name, sources, probes, layer="data", whole=True).modules


def closure(
    engine: Engine,
    module_name: str,
    sources: SourceCache | None = None,
    probes: set[Path] | None = None,
    *,
    root: ModuleSource | None = None,
    layer: Layer = "render",
    whole: bool = False,
) -> Closure:
    """What running module `module_name` (or `root`, a parse of it to use instead, such
    as the compute side of a figure) can reach; every part of the root counts.

    `whole`: every part of every module reached counts (a module-level analysis).
    `probes` receives every path the answer depends on: the files read, the paths whose
    absence was relied on, and the folders whose listing was read.
    """
    sources = sources or SourceCache(engine)
    probes = set() if probes is None else probes
    walk = _Walk(engine, sources, probes, layer, whole)
    walk.run(module_name, root)
    found = {
        source.path: source
        for name in walk.required
        if name != module_name and (source := walk.source(name)) is not None
    }
    return Closure(
        modules=[found[path] for path in sorted(found)],
        reached={name: frozenset(indices) for name, indices in walk.reached.items()},
    )


class _Walk:
    """The fixpoint: modules required, names mentioned, parts reached."""

    def __init__(
        self, engine: Engine, sources: SourceCache, probes: set[Path], layer: Layer, whole: bool
    ) -> None:
        self.engine, self.sources, self.probes = engine, sources, probes
        self.layer, self.whole = layer, whole
        self.required: set[str] = set()
        self.asked: dict[str, set[str]] = defaultdict(set)  # module -> names asked of it
        self.names: set[str] = set()
        self.aliases: dict[str, set[str]] = defaultdict(set)
        self.waiting: dict[str, list[tuple[str, int]]] = defaultdict(list)  # name -> parts
        self.reached: dict[str, set[int]] = defaultdict(set)
        self.whole_modules: set[str] = set()
        self.hooks: set[str] = set()  # names of classes that define __init_subclass__
        self.subclasses: dict[str, list[tuple[str, int]]] = defaultdict(list)  # base -> parts
        self.effects: deque[Effect] = deque()
        self.mentions: deque[str] = deque()
        self._root: tuple[str, ModuleSource] | None = None

    def source(self, name: str) -> ModuleSource | None:
        if self._root is not None and name == self._root[0]:
            return self._root[1]
        if not is_tracked(self.engine, name, self.layer):
            return None
        if self.layer == "data" and is_figure(self.engine, name):
            # Another figure imported for its helpers: its render side never runs here.
            return self.sources.compute_side(name)
        return self.sources.module(name)

    def files(self, name: str) -> Path | None:
        if not is_tracked(self.engine, name, self.layer):
            return None
        return self.sources.file(name, self.probes)

    def run(self, module_name: str, root: ModuleSource | None) -> None:
        if root is not None:
            self._root = (module_name, root)
        self.whole_modules.add(module_name)  # every part of the root counts
        self.effects.append(("require", module_name))
        while self.effects or self.mentions:
            if self.effects:
                self._effect(self.effects.popleft())
            else:
                self._mention(self.mentions.popleft())

    # -- effects ------------------------------------------------------------------

    def _effect(self, effect: Effect) -> None:
        kind, module = effect[0], effect[1]
        if kind == "require":
            self._require(module)
        elif kind == "ask":
            name = effect[2]
            if name in self.asked[module]:
                return
            self.asked[module].add(name)
            source = self.source(module)
            if module in self.required and source is not None:
                self._ask(source, name)
            # Otherwise what it asks is handled once the module is required.
        elif kind == "from":
            self.effects.extend(_resolve_from(self.files, module, effect[2]))
        elif kind == "chain":
            self.effects.extend(_resolve_chain(self.files, module, effect[2]))

    def _require(self, module: str) -> None:
        if module in self.required:
            return
        self.required.add(module)
        parts = module.split(".")
        self.effects.extend(("require", ".".join(parts[:i])) for i in range(1, len(parts)))
        self.files(module)  # records the probes of `module` for this figure
        source = self.source(module)
        if source is None:
            return
        for alias, names in source.aliases.items():
            self.aliases[alias] |= names
            if alias in self.names:
                self._mention_all(names)
        everything = self.whole or module in self.whole_modules
        for index, part in enumerate(source.parts):
            if part.hooks_subclasses and part.name is not None:
                self._hook(part.name)
            if everything or part.always or (part.name is not None and part.name in self.names):
                self._reach(module, index)
                continue
            self.effects.extend(part.stub_effects)
            self._mention_all(part.stub_refs)
            if part.name is not None:
                self.waiting[part.name].append((module, index))
            for base in part.bases:
                if base in self.hooks:
                    self._reach(module, index)
                    break
                self.subclasses[base].append((module, index))
        for name in list(self.asked[module]):
            self._ask(source, name)

    def _reach(self, module: str, index: int) -> None:
        if index in self.reached[module]:
            return
        self.reached[module].add(index)
        source = self.source(module)
        assert source is not None
        part = source.parts[index]
        self.effects.extend(part.effects)
        self._mention_all(part.refs)
        if part.introspects:
            self._whole(module)

    def _whole(self, module: str) -> None:
        """Every part of `module` counts (it is used as a value, or reads its globals)."""
        if module in self.whole_modules:
            return
        self.whole_modules.add(module)
        source = self.source(module)
        if module in self.required and source is not None:
            for index in range(len(source.parts)):
                self._reach(module, index)

    def _hook(self, name: str) -> None:
        if name in self.hooks:
            return
        self.hooks.add(name)
        for module, index in self.subclasses.pop(name, []):
            self._reach(module, index)

    def _ask(self, source: ModuleSource, name: str) -> None:
        """What `source.__getattr__(name)` may import; asking for anything (the module
        used as a value) makes every part count."""
        if name == ANY or name == "__dict__":
            self._whole(source.name)
        if name in source.defined or name in _MODULE_ATTRIBUTES:
            return
        self.effects.extend(source.lazy)
        if not source.dynamic:
            return
        if name != ANY and name in source.exports:
            strings = source.exports[name]
            self._mention_all(source.export_names.get(name, set()))
        else:
            strings = source.module_strings
            for names in source.export_names.values():
                self._mention_all(names)
        self.effects.extend(("require", s) for s in sorted(strings) if self.files(s) is not None)
        if name == ANY and source.path.name == "__init__.py":
            # A computed submodule name (f"{__name__}.{name}"): any submodule may load.
            self.probes.add(source.path.parent)  # its listing: a new submodule changes it
            for child in sorted(source.path.parent.iterdir()):
                stem = child.stem if child.suffix == ".py" else child.name
                if stem != "__init__" and self.files(f"{source.name}.{stem}"):
                    self.effects.append(("require", f"{source.name}.{stem}"))

    # -- mentions -----------------------------------------------------------------

    def _mention_all(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self.names:
                self.names.add(name)
                self.mentions.append(name)

    def _mention(self, name: str) -> None:
        for module, index in self.waiting.pop(name, []):
            self._reach(module, index)
        self._mention_all(self.aliases.get(name, ()))


Files = Callable[[str], "Path | None"]
"""`module_file` bound to one plan, one layer and one figure's probes."""


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


@dataclass
class _Scanned:
    refs: set[str] = field(default_factory=set)
    effects: list[Effect] = field(default_factory=list)
    introspects: bool = False


class _Collector:
    """Splits one module into parts and records the import effects of each."""

    def __init__(
        self, module: str, is_package: bool, engine: Engine, tree: ast.Module, clean: ast.Module
    ) -> None:
        """`clean`: a separate copy of `tree` without docstrings, which the parts keep."""
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.engine = engine
        self.lazy: list[Effect] = []
        self.dynamic = False
        self.exports: dict[str, set[str]] = {}
        self.export_names: dict[str, set[str]] = {}
        self.module_strings: set[str] = set()
        self.defined: set[str] = set()
        self.aliases: dict[str, set[str]] = {}
        # Names bound to (possibly) modules: name -> dotted module it refers to.
        self._bindings: dict[str, str] = {}
        self._future_annotations = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "__future__"
            and any(alias.name == "annotations" for alias in node.names)
            for node in tree.body
        )
        self._origins = _top_level_origins(tree)
        self._bind(tree)  # first pass: every name an import binds, for attribute chains
        hook = next((n for n in tree.body if _is_hook(n)), None)
        if hook is not None:
            self.lazy = self._scan(hook, strings=True, in_hook=True).effects
        for node in tree.body:
            self.defined |= _bound_names(node)
            self._record_strings(node)
        self.defined.discard("__getattr__")
        self.parts = tuple(self._part(node) for node in clean.body)

    # -- parts --------------------------------------------------------------------

    def _part(self, node: ast.stmt) -> Part:
        # A lazy package's top-level strings are its export tables: they count per name
        # asked (`_Walk._ask`), not all at once.
        table = self.dynamic and not isinstance(node, _DEFINITIONS)
        scanned = self._scan(node, strings=not (table or _is_all(node)))
        effects = () if _is_hook(node) else tuple(scanned.effects)
        full, refs, introspects = _dump(node), frozenset(scanned.refs), scanned.introspects
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            stub = self._function_stub(node)
            always = node.name.startswith("__") and node.name.endswith("__")
            always = always or not self._transparent(node.decorator_list)
            return self._with_stub(node.name, always, full, refs, effects, stub, introspects)
        if isinstance(node, ast.ClassDef):
            stub = self._class_stub(node)
            always = bool(node.keywords) or not self._transparent(node.decorator_list)
            hooks = any(
                isinstance(child, ast.FunctionDef) and child.name == "__init_subclass__"
                for child in node.body
            )
            part = self._with_stub(node.name, always, full, refs, effects, stub, introspects)
            bases = frozenset(n.id for b in node.bases for n in ast.walk(b) if isinstance(n, ast.Name))
            return dataclasses.replace(part, bases=bases, hooks_subclasses=hooks)
        return Part(None, True, full, None, refs, refs, effects, effects, introspects)

    def _with_stub(
        self,
        name: str,
        always: bool,
        full: bytes,
        refs: frozenset[str],
        effects: tuple[Effect, ...],
        stub: ast.stmt | None,
        introspects: bool,
    ) -> Part:
        if stub is None:
            return Part(name, always, full, None, refs, frozenset(), effects, (), introspects)
        scanned = self._scan(stub, strings=True)
        stub_refs, stub_effects = frozenset(scanned.refs), tuple(scanned.effects)
        return Part(name, always, full, _dump(stub), refs, stub_refs, effects, stub_effects, introspects)

    def _function_stub(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.stmt | None:
        """What evaluating the `def` runs, or None if it only binds the name. (Built from
        the node's own children, never copied: trees here are only read.)"""
        args = node.args
        returns = node.returns
        if self._future_annotations:  # annotations stay strings: nothing runs
            returns = None
            args = ast.arguments(
                posonlyargs=[_bare(a) for a in args.posonlyargs],
                args=[_bare(a) for a in args.args],
                vararg=args.vararg and _bare(args.vararg),
                kwonlyargs=[_bare(a) for a in args.kwonlyargs],
                kw_defaults=args.kw_defaults,
                kwarg=args.kwarg and _bare(args.kwarg),
                defaults=args.defaults,
            )
        inert = (
            all(_is_literal(d) for d in [*args.defaults, *args.kw_defaults] if d)
            and returns is None
            and all(arg.annotation is None for arg in _all_args(args))
            and all(self._harmless(d) for d in node.decorator_list)
        )
        if inert:
            return None
        return type(node)(
            name=node.name,
            args=args,
            body=[ast.Pass()],
            decorator_list=node.decorator_list,
            returns=returns,
            type_comment=None,
        )

    def _class_stub(self, node: ast.ClassDef) -> ast.stmt:
        """The class statement as it runs at import: its body without method bodies."""
        body: list[ast.stmt] = []
        for child in node.body:
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                method = self._function_stub(child)
                if method is not None:
                    body.append(method)
            else:
                body.append(child)
        return ast.ClassDef(
            name=node.name,
            bases=node.bases,
            keywords=node.keywords,
            body=body,
            decorator_list=node.decorator_list,
        )

    def _transparent(self, decorators: list[ast.expr]) -> bool:
        return all(self._origin(d) in TRANSPARENT for d in decorators)

    def _harmless(self, decorator: ast.expr) -> bool:
        """A transparent decorator called with literal arguments only."""
        if isinstance(decorator, ast.Call):
            arguments = [*decorator.args, *(k.value for k in decorator.keywords)]
            if not all(_is_literal(a) for a in arguments):
                return False
        return self._origin(decorator) in TRANSPARENT

    def _origin(self, decorator: ast.expr) -> str | None:
        """The dotted name a decorator resolves to through the module's imports."""
        node = decorator.func if isinstance(decorator, ast.Call) else decorator
        chain: list[str] = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self._origins:
            return None
        return ".".join([self._origins[node.id], *reversed(chain)])

    # -- effects ------------------------------------------------------------------

    def _bind(self, tree: ast.Module) -> None:
        """Every name an import binds, anywhere in the module (an over-approximation)."""
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self._bindings[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self._bindings[top] = top  # `import a.b.c` binds `a`
            elif isinstance(node, ast.ImportFrom):
                base = self.absolute(node.module or "", node.level)
                for alias in node.names:
                    if base is None or alias.name == "*":
                        continue
                    # A module if `base.name` is one; resolved against files later.
                    self._bindings[alias.asname or alias.name] = f"{base}.{alias.name}"
                    if alias.asname and alias.asname != alias.name:
                        self.aliases.setdefault(alias.asname, set()).add(alias.name)

    def _scan(self, root: ast.AST, strings: bool, in_hook: bool = False) -> _Scanned:
        """One walk of `root`: the names it mentions, its import effects, and whether it
        reads its module's globals. `strings`: identifier strings count as mentions."""
        out = _Scanned()
        inner: set[int] = set()  # Names and Attributes inside an attribute chain seen above
        stack: list[ast.AST] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                stack.extend(node.orelse)  # the body never runs
                continue
            if isinstance(node, ast.Name):
                out.refs.add(node.id)
                if id(node) not in inner:
                    self._chain(node, [], out.effects)
            elif isinstance(node, ast.Attribute):
                out.refs.add(node.attr)
                if id(node) not in inner:
                    attrs, current = [], node
                    while isinstance(current, ast.Attribute):
                        attrs.append(current.attr)
                        current = current.value
                        inner.add(id(current))
                    if isinstance(current, ast.Name):
                        self._chain(current, attrs[::-1], out.effects)
            elif isinstance(node, ast.keyword) and node.arg:
                out.refs.add(node.arg)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                out.refs.update(node.names)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and strings:
                bits = node.value.split(".")
                if all(bit.isidentifier() for bit in bits):
                    out.refs.update(bits)
            elif isinstance(node, ast.Import):
                out.effects += [("require", alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = self.absolute(node.module or "", node.level)
                if base is not None:
                    out.effects += [("from", base, alias.name) for alias in node.names]
            elif isinstance(node, ast.Call):
                self._call(node, out, in_hook)
            stack.extend(ast.iter_child_nodes(node))
        return out

    def _chain(self, name: ast.Name, attrs: list[str], sink: list[Effect]) -> None:
        """`mod.a.b` on a name bound by an import: which attributes are asked of whom."""
        if name.id in self._bindings and isinstance(name.ctx, ast.Load):
            sink.append(("chain", self._bindings[name.id], ".".join(attrs)))

    def _call(self, node: ast.Call, out: _Scanned, in_hook: bool) -> None:
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if isinstance(func, ast.Name) and fname in _INTROSPECTION:
            # `globals()`, or `vars()`, `dir()`, `locals()` of the module's own scope.
            out.introspects |= fname == "globals" or not (node.args or node.keywords)
        if fname not in ("import_module", "__import__") or not node.args:
            return
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            if in_hook:
                self.dynamic = True  # resolved through the package's string tables
            return  # elsewhere a computed module name is not visible (see docstring)
        target: str | None = first.value
        if fname == "import_module" and first.value.startswith("."):
            target = self.relative_to_argument(first.value, node.args[1:2])
        if target is None:
            return
        bound = target if fname == "import_module" else target.split(".")[0]
        out.effects += [("require", target), ("ask", bound, ANY)]

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
            names = {s for s in strings if s.isidentifier()}
            self.module_strings |= modules
            for s in names - modules:
                self.exports.setdefault(s, set()).update(modules)
                self.export_names.setdefault(s, set()).update(names)

    def absolute(self, module: str, level: int) -> str | None:
        if level == 0:
            return module
        parts = self.package.split(".") if self.package else []
        if level - 1 > len(parts):
            return None  # beyond the top-level package: Python raises ImportError too
        parts = parts[: len(parts) - (level - 1)]
        if module:
            parts.append(module)
        return ".".join(parts) or None

    def relative_to_argument(self, name: str, args: list[ast.expr]) -> str | None:
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


def _is_hook(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef) and node.name == "__getattr__"


def _is_all(node: ast.stmt) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else []
    if isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def _is_literal(node: ast.expr) -> bool:
    """A value whose evaluation cannot run code or fail: constants and their tuples."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _is_literal(node.operand)
    if isinstance(node, ast.Tuple):
        return all(_is_literal(e) for e in node.elts)
    return False


def _bare(arg: ast.arg) -> ast.arg:
    return ast.arg(arg=arg.arg, annotation=None, type_comment=None)


def _all_args(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


def _top_level_origins(tree: ast.Module) -> dict[str, str]:
    """Name -> dotted origin, for names bound by top-level imports (decorator lookup)."""
    origins: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    origins[alias.asname] = alias.name
                else:
                    origins[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                origins[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for builtin in ("staticmethod", "classmethod", "property"):
        origins.setdefault(builtin, f"builtins.{builtin}")
    return origins


def _dump(node: ast.AST) -> bytes:
    return ast.dump(node).encode()


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
