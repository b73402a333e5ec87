"""What the site reads from the project's source without importing it.

The site never imports a figure module (workers do, under the build's import checks),
yet the methods appendix wants three things that live only in source:

- a figure's `methods` text (`Figure.methods`, which the cache entry does not carry);
- the descriptions of its params: the docstring under each dataclass field, nested
  dataclasses (a `host: HostParams` field) expanded;
- settings that are literals in code rather than params: a library config's default
  (`symbiote_core.hosts.modadd.ModAddConfig.d_mlp`), or a keyword fixed inside a helper
  (`figures_src._lab.toy.host_config.batch_size`), quoted by `{{ code: PATH }}`.

All of it is read from the AST, so a number shown is the number written in the code
(`ast.literal_eval`), never a copy typed into prose. Parsed trees are kept per file
for as long as its bytes stay the same; one `SourceIndex` (one build) reads each file
once, so a new index sees every edit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SourceTextError(Exception):
    """Source that cannot give what was asked (names the file, and the line if known)."""


class _NotStatic(Exception):
    """An expression `SourceIndex.static_text` cannot evaluate from source."""


@dataclass(frozen=True)
class Setting:
    """A literal in the project's code, found by `SourceIndex.setting`."""

    path: str
    value: Any
    doc: str
    """The docstring under a dataclass field; "" for a keyword in a function."""
    where: str
    """`file:line` of the literal, relative to the root."""


@dataclass(frozen=True)
class ParamRow:
    path: str
    """Dotted path of the param: `host.lr`."""
    value: Any
    doc: str
    group: str
    """The docstring's first line of the dataclass the param belongs to."""


@dataclass(frozen=True)
class _Class:
    node: ast.ClassDef
    module: str


_TREES: dict[Path, tuple[bytes, ast.Module]] = {}
"""Parsed files by path, with the bytes they were parsed from: shared by every build of
one process (parsing a hundred figure modules costs more than the rest of a rebuild's
directives), and compared by content, so an edit is seen however soon it follows."""


class SourceIndex:
    """Parsed modules of one project root, by dotted name."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # One index serves one build: each file is read once, and each setting found once.
        self._read: dict[Path, ast.Module] = {}
        self._settings: dict[str, Setting] = {}

    # -- modules ---------------------------------------------------------------------
    def file(self, module: str) -> Path | None:
        base = self.root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def tree(self, module: str) -> ast.Module:
        path = self.file(module)
        if path is None:
            raise SourceTextError(f"no module {module!r} under {self.root}")
        if path in self._read:
            return self._read[path]
        source = path.read_bytes()
        cached = _TREES.get(path)
        if cached is None or cached[0] != source:
            try:
                tree = ast.parse(source, filename=str(path))
            except SyntaxError as error:
                raise SourceTextError(
                    f"{self.relative(path)}:{error.lineno}: {error.msg}"
                ) from None
            cached = (source, tree)
            _TREES[path] = cached
        self._read[path] = cached[1]
        return cached[1]

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def where(self, module: str, node: ast.AST) -> str:
        path = self.file(module)
        shown = self.relative(path) if path else module
        return f"{shown}:{getattr(node, 'lineno', 1)}"

    # -- a figure's text -------------------------------------------------------------
    def figure_text(self, module: str, field: str) -> str:
        """The string given as `field=` to `FIGURE = Figure(...)`: a literal, or the name
        of a module-level string constant; "" when not given."""
        tree = self.tree(module)
        call = _figure_call(tree)
        if call is None:
            raise SourceTextError(f"{self.where(module, tree)}: no `FIGURE = Figure(...)` call")
        keyword = next((k for k in call.keywords if k.arg == field), None)
        if keyword is None:
            return ""
        try:
            return self.static_text(module, keyword.value, {})
        except _NotStatic:
            raise SourceTextError(
                f"{self.where(module, keyword.value)}: Figure's {field}= must be a string "
                "literal, the name of a module-level string constant, or strings joined by `+` "
                "from those and includes (calls of a project function that returns one, with "
                "literal arguments; see `figures_src/_lab/words.py`): the site reads it without "
                "importing the module; quote numbers with {{ param: }} / {{ code: }} directives"
            ) from None

    def static_text(self, module: str, node: ast.expr, env: dict[str, Any], depth: int = 0) -> Any:
        """The string `node` evaluates to in `module`, read from source: literals, `+`,
        `or`, module-level constants (imported ones too), and calls of project functions
        whose body assigns and returns such expressions; inside such a function, f-strings
        of its arguments and locals (`env`)."""
        if depth > 16:
            raise _NotStatic
        again = lambda n, e=env: self.static_text(module, n, e, depth + 1)  # noqa: E731
        if isinstance(node, ast.Constant) and isinstance(node.value, str | None):
            return node.value
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    # Only an include's own arguments and locals: a figure's methods stay
                    # plain strings, and an f-string there is refused.
                    value = part.value
                    if (
                        part.conversion != -1
                        or part.format_spec is not None
                        or not (isinstance(value, ast.Name) and value.id in env)
                    ):
                        raise _NotStatic
                    part = value
                value = again(part)
                if not isinstance(value, str):
                    raise _NotStatic
                parts.append(value)
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = again(node.left), again(node.right)
            if not (isinstance(left, str) and isinstance(right, str)):
                raise _NotStatic
            return left + right
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            value = None
            for operand in node.values:
                value = again(operand)
                if value:
                    return value
            return value
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            found = self._definition(module, node.id)
            if found is None or not isinstance(found[1], ast.expr):
                raise _NotStatic
            return self.static_text(found[0], found[1], {}, depth + 1)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            found = self._definition(module, node.func.id)
            if found is None or not isinstance(found[1], ast.FunctionDef):
                raise _NotStatic
            home, fn = found
            args = [again(a) for a in node.args]
            kwargs = {k.arg: again(k.value) for k in node.keywords if k.arg}
            if len(kwargs) != len(node.keywords):
                raise _NotStatic
            return self._call(home, fn, args, kwargs, depth + 1)
        raise _NotStatic

    def _call(
        self, module: str, fn: ast.FunctionDef, args: list, kwargs: dict, depth: int
    ) -> Any:
        spec = fn.args
        names = [a.arg for a in spec.posonlyargs + spec.args]
        if len(args) > len(names) or spec.vararg or spec.kwarg:
            raise _NotStatic
        env: dict[str, Any] = dict(zip(names, args, strict=False))
        defaults = dict(zip(names[len(names) - len(spec.defaults) :], spec.defaults, strict=True))
        defaults |= {a.arg: d for a, d in zip(spec.kwonlyargs, spec.kw_defaults, strict=True) if d}
        for name in names[len(args) :] + [a.arg for a in spec.kwonlyargs]:
            if name in kwargs:
                env[name] = kwargs.pop(name)
            elif name in defaults:
                env[name] = self.static_text(module, defaults[name], {}, depth + 1)
            else:
                raise _NotStatic
        if kwargs:
            raise _NotStatic
        for statement in fn.body:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                continue  # the docstring
            if (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                env[statement.targets[0].id] = self.static_text(
                    module, statement.value, env, depth + 1
                )
                continue
            if isinstance(statement, ast.Return) and statement.value is not None:
                return self.static_text(module, statement.value, env, depth + 1)
            raise _NotStatic
        raise _NotStatic

    def _definition(self, module: str, name: str, depth: int = 0) -> tuple[str, ast.AST] | None:
        """Where `name` is defined as seen from `module`: (module, its value expression or
        its `def`), following `from X import name` into project modules."""
        if depth > 8:
            return None
        try:
            tree = self.tree(module)
        except SourceTextError:
            return None
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return module, node
        value = _top_level_value(tree, name)
        if value is not None:
            return module, value
        source = _imported_as(tree.body, name)
        return self._definition(*source, depth + 1) if source else None

    # -- params ------------------------------------------------------------------------
    def param_rows(self, module: str, params: dict[str, Any]) -> list[ParamRow]:
        """Every param in `params` (the build's record), nested dataclasses expanded,
        with the docstring under its field where the class can be found statically."""
        tree = self.tree(module)
        found = self._params_class(module, tree)
        return list(self._rows(found, params, ""))

    def _rows(self, cls: _Class | None, values: dict[str, Any], prefix: str) -> Iterator[ParamRow]:
        fields = self._fields(cls) if cls else {}
        group = _first_line(ast.get_docstring(cls.node) or "") if cls else ""
        # In the class's field order (the build's record is sorted by name).
        order = [n for n in fields if n in values] + [n for n in values if n not in fields]
        for name in order:
            value, path = values[name], f"{prefix}{name}"
            annotation, doc = fields.get(name, (None, ""))
            if isinstance(value, dict):
                inner = self._annotation_class(cls, annotation) if cls else None
                yield from self._rows(inner, value, path + ".")
                continue
            yield ParamRow(path=path, value=value, doc=doc, group=group)

    def _params_class(self, module: str, tree: ast.Module) -> _Class | None:
        call = _figure_call(tree)
        keyword = next((k for k in (call.keywords if call else []) if k.arg == "params"), None)
        node = keyword.value if keyword else None
        if isinstance(node, ast.Name):
            node = _top_level_value(tree, node.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._class(module, node.func.id)
        return None

    def _class(self, module: str, name: str, depth: int = 0) -> _Class | None:
        """The class `name` as seen from `module`: defined there, or imported into it."""
        if depth > 8:
            return None
        try:
            tree = self.tree(module)
        except SourceTextError:
            return None
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                return _Class(node, module)
        source = _imported_as(ast.walk(tree), name)
        return self._class(*source, depth + 1) if source else None

    def _fields(self, cls: _Class) -> dict[str, tuple[ast.expr, str]]:
        """Field name -> (annotation, docstring), base classes first."""
        out: dict[str, tuple[ast.expr, str]] = {}
        for base in cls.node.bases:
            if isinstance(base, ast.Name):
                parent = self._class(cls.module, base.id)
                if parent is not None:
                    out |= self._fields(parent)
        body = cls.node.body
        for i, node in enumerate(body):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                nxt = body[i + 1] if i + 1 < len(body) else None
                doc = ""
                if (
                    isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)
                ):
                    doc = " ".join(nxt.value.value.split())
                out[node.target.id] = (node.annotation, doc)
        return out

    def _annotation_class(self, cls: _Class, annotation: ast.expr | None) -> _Class | None:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(annotation, ast.Name):
            return self._class(cls.module, annotation.id)
        return None

    # -- literal settings in code ----------------------------------------------------------
    def setting(self, dotted: str) -> Setting:
        """`package.module.Class.field` (a dataclass field's default) or
        `package.module.function.name` (the one literal given to `name=` in a call, or
        assigned to `name`, inside that function)."""
        if dotted not in self._settings:
            self._settings[dotted] = self._setting(dotted)
        return self._settings[dotted]

    def _setting(self, dotted: str) -> Setting:
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if self.file(module) is not None:
                rest = parts[cut:]
                break
        else:
            raise SourceTextError(f"code setting {dotted!r}: no project module in that path")
        if len(rest) != 2:
            raise SourceTextError(
                f"code setting {dotted!r}: expected MODULE.Class.field or MODULE.function.name "
                f"after module {module!r}"
            )
        owner, name = rest
        tree = self.tree(module)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == owner:
                return self._field_default(dotted, _Class(node, module), name)
            if isinstance(node, ast.FunctionDef) and node.name == owner:
                return self._function_literal(dotted, module, node, name)
        raise SourceTextError(f"code setting {dotted!r}: {module} defines no {owner!r}")

    def _field_default(self, dotted: str, cls: _Class, name: str) -> Setting:
        for node in cls.node.body:
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == name
            ):
                default = node.value
                if (
                    isinstance(default, ast.Call)
                    and isinstance(default.func, ast.Name)
                    and default.func.id == "field"
                ):
                    default = next((k.value for k in default.keywords if k.arg == "default"), None)
                if default is None:
                    raise SourceTextError(
                        f"code setting {dotted!r} ({self.where(cls.module, node)}): the field "
                        "has no literal default"
                    )
                doc = self._fields(cls).get(name, (None, ""))[1]
                return Setting(
                    dotted,
                    self._literal(dotted, cls.module, default),
                    doc,
                    self.where(cls.module, node),
                )
        for base in cls.node.bases:  # an inherited field
            if isinstance(base, ast.Name):
                parent = self._class(cls.module, base.id)
                if parent is not None:
                    try:
                        return self._field_default(dotted, parent, name)
                    except SourceTextError:
                        pass
        raise SourceTextError(f"code setting {dotted!r}: {cls.node.name} has no field {name!r}")

    def _function_literal(
        self, dotted: str, module: str, function: ast.FunctionDef, name: str
    ) -> Setting:
        found: list[ast.expr] = []
        for node in ast.walk(function):
            keyword = isinstance(node, ast.keyword) and node.arg == name
            assigned = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            )
            if keyword or assigned:
                found.append(node.value)  # type: ignore[union-attr]
        values = []
        for node in found:
            try:
                values.append((ast.literal_eval(node), node))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue  # computed, not a literal: not a setting
        distinct = {repr(v) for v, _ in values}
        if len(distinct) != 1:
            what = "no literal" if not distinct else f"{len(distinct)} different literals"
            raise SourceTextError(
                f"code setting {dotted!r} ({self.where(module, function)}): {what} for "
                f"{name!r} in {function.name}(); name one that is given exactly one literal"
            )
        value, node = values[0]
        return Setting(dotted, value, "", self.where(module, node))

    def _literal(self, dotted: str, module: str, node: ast.expr) -> Any:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise SourceTextError(
                f"code setting {dotted!r} ({self.where(module, node)}): not a literal"
            ) from None


def _figure_call(tree: ast.Module) -> ast.Call | None:
    from symbiote_core.figures.engine.registry import find_figure_call

    return find_figure_call(tree)


def _imported_as(nodes: Iterable[ast.AST], name: str) -> tuple[str, str] | None:
    """(module, original name) of the absolute `from module import original [as name]`
    among `nodes` that binds `name`, if any."""
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return node.module, alias.name
    return None


def _top_level_value(tree: ast.Module, name: str) -> ast.expr | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.value
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            return node.value
    return None


def _first_line(text: str) -> str:
    return text.strip().split("\n\n")[0].replace("\n", " ") if text else ""
