"""The compute side of a figure module: what `compute(params)` can depend on.

A figure module holds its compute and its presentation together. The data key hashes
only the compute side: the module's tree without docstrings, without the `title`,
`caption`, `alt`, `values`, `claims`, `methods` and `render` arguments of `FIGURE =
Figure(...)`, and without the top-level functions and simple assignments that only
those removed parts use (the render function, `_render*` / `_chart*` helpers, value
getters); a helper that compute also uses is never dropped. The dependency analysis
(`deps.py`) follows imports from this tree, so a palette imported inside `render` is no
part of it. A figure module that another figure's compute imports runs its whole top
level there (its values and claims too): it is read without its `render` argument
only, so its render counts only if the importer uses it.
"""

from __future__ import annotations

import ast
import copy

from symbiote_core.figures.engine.registry import find_figure_call

# Keyword arguments of Figure(...) that cannot change the data, in Figure's field order
# (so positional arguments are recognised too).
FIGURE_FIELDS = (
    "title", "caption", "alt", "params", "compute", "render", "values", "claims", "methods",
    "inputs", "tuning_seeds", "tuning_note",
)
NOT_DATA = frozenset(
    {"title", "caption", "alt", "render", "values", "claims", "methods", "tuning_seeds",
     "tuning_note"}
)
RENDER = frozenset({"render"})
RENDER_PREFIXES = ("_render", "_chart")


def data_tree(tree: ast.Module | None, imported: bool = False) -> ast.Module | None:
    """The part of a figure module that `compute(params)` can depend on: a copy of its
    tree without docstrings, text, render and what only those use (module docstring).

    `imported`: the module is imported by another figure's compute, which runs its whole
    top level, the `FIGURE` call's values and claims included, and may call any of its
    helpers: keep every definition and drop only the `render` argument (`deps.py` then
    counts what is mentioned). None when the module does not parse (its raw bytes are
    hashed instead).
    """
    if tree is None:
        return None
    tree = copy.deepcopy(tree)  # the SourceCache tree is shared: never mutate it
    strip_docstrings(tree)
    call = find_figure_call(tree)
    if call is None:
        # No recognisable FIGURE call: keep the whole module (safe, only slower).
        return tree
    dropped = RENDER if imported else NOT_DATA
    removed: list[ast.AST] = []
    kept_keywords = []
    for keyword in call.keywords:
        (removed if keyword.arg in dropped else kept_keywords).append(keyword)
    call.keywords = kept_keywords
    for index, arg in enumerate(call.args):
        if index < len(FIGURE_FIELDS) and FIGURE_FIELDS[index] in dropped:
            removed.append(arg)
            call.args[index] = ast.Constant(value=None)
    if not imported:
        _drop_unused_definitions(tree, removed)
    return tree


def data_fingerprint(source: bytes) -> bytes:
    """The compute side of a figure module's source, as a string (its raw bytes when it
    does not parse, so a broken figure still gets a key)."""
    try:
        tree = data_tree(ast.parse(source))
    except (SyntaxError, ValueError):
        return source
    assert tree is not None
    return ast.dump(tree).encode()


def _drop_unused_definitions(tree: ast.Module, removed: list[ast.AST]) -> None:
    """Remove top-level functions and simple assignments that only the removed parts use.

    Candidates are names the removed arguments refer to, plus `_render*` / `_chart*`
    functions; a candidate goes only if nothing left in the module refers to it, so a
    helper shared with compute stays.
    """
    candidates = set().union(*(_names(node) for node in removed)) if removed else set()
    for node in tree.body:
        name = _defined_name(node)
        if name and name.startswith(RENDER_PREFIXES):
            candidates.add(name)
    changed = True
    while changed:
        changed = False
        for node in list(tree.body):
            name = _defined_name(node)
            if name is None or name == "FIGURE" or name not in candidates:
                continue
            others = [other for other in tree.body if other is not node]
            if any(name in _names(other) for other in others):
                continue
            tree.body.remove(node)
            candidates |= _names(node)
            changed = True


def _defined_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _names(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def strip_docstrings(tree: ast.AST) -> None:
    """Drop every bare string statement of `tree` in place: docstrings, and attribute
    docstrings under fields. They never change what code does; a tree stripped here is
    only dumped or analysed, never compiled, so a body left empty does no harm."""
    _DropBareStrings().visit(tree)


class _DropBareStrings(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.Expr | None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None
        return node
