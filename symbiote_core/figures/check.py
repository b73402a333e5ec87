"""`python -m symbiote_core.figures check [NAME...]`: figures against the authoring rules.

The rules are stated in `authoring/rules.py`; this module gathers what they read, for
each figure: its module's source (the AST: nothing is imported, so no torch) and, once
the figure is built, its cache entry (the params, values, alt text and claims the build
recorded: an f-string alt or names made in a loop are checked as computed). A rule that
needs the entry is noted as unchecked for a figure not built yet. It sits beside the
CLI, over the engine (cache entries) and the site (directive parser, source reader).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from symbiote_core.figures.authoring import rules
from symbiote_core.figures.engine.plan import load_entry
from symbiote_core.figures.engine.registry import Engine, find_figure_call, resolve_names
from symbiote_core.figures.site.markup import find_directives, param_paths
from symbiote_core.figures.site.sourcetext import SourceIndex, SourceTextError


@dataclass(frozen=True)
class Finding:
    """One broken rule: where (`file:line`), which rule, and what to do."""

    figure: str
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.rule}: {self.message}"


@dataclass(frozen=True)
class Report:
    """What `check` found for one figure; `unchecked` names rules it could not run."""

    figure: str
    findings: tuple[Finding, ...] = ()
    unchecked: tuple[str, ...] = ()


@dataclass
class _Facts:
    """What the rules read about one figure: from source, or from its entry once built."""

    name: str
    module: str
    path: str
    tree: ast.Module
    figure_line: int
    alt: str | None = None
    values: list[str] | None = None
    claims: list[tuple[str, list[tuple[str, str]]]] | None = None
    """Each claim's name and its nulls' (value, null value) pairs."""
    params: dict[str, Any] | None = None
    lines: dict[str, int] = field(default_factory=dict)
    """Line of each `Figure(...)` keyword, and of each claim as `claim:NAME`."""

    def where(self, keyword: str) -> str:
        return f"{self.path}:{self.lines.get(keyword, self.figure_line)}"


def check(engine: Engine, names: Sequence[str] | None = None,
          entries: Mapping[str, Any] | None = None) -> list[Report]:
    """Check figures `names` (all when None) against every rule. `entries` maps a name to
    its built entry (a `FigureEntry`, as `build` returns it); a figure not in it is looked
    up in the cache, and checked from source alone when not built."""
    index = SourceIndex(engine.root)
    reports = []
    for name in resolve_names(engine, list(names) if names is not None else None):
        entry = (entries or {}).get(name) or load_entry(engine, name)
        reports.append(_check_one(engine, index, name, entry))
    return reports


def findings(reports: Iterable[Report]) -> list[Finding]:
    """Every finding, each once (a helper module shared by figures is reported once)."""
    seen: dict[tuple[str, str, str], Finding] = {}
    for report in reports:
        for found in report.findings:
            seen.setdefault((found.where, found.rule, found.message), found)
    return list(seen.values())


def format_reports(reports: Sequence[Report]) -> tuple[list[str], str]:
    """Lines to print (findings, then notes on unchecked rules) and a summary line."""
    found = findings(reports)
    lines = [str(f) for f in found]
    for report in reports:
        if report.unchecked:
            lines.append(f"note: {report.figure}: not built, so not checked: "
                         f"{', '.join(report.unchecked)} (build it, then check again)")
    broken = len({f.figure for f in found})
    summary = (f"{len(found)} finding(s) in {broken} of {len(reports)} figure(s)"
               if found else f"{len(reports)} figure(s) follow every rule")
    return lines, summary


def _check_one(engine: Engine, index: SourceIndex, name: str, entry: Any) -> Report:
    module = engine.module_name(name)
    path = engine.relative(engine.module_path(name))
    try:
        tree = index.tree(module)
    except SourceTextError as error:  # a syntax error: nothing else can be read
        return Report(name, (Finding(name, "methods", path, str(error)),))
    call = find_figure_call(tree)
    if call is None:
        return Report(name, (Finding(name, "identifiers", f"{path}:1",
                                     "no `FIGURE = Figure(...)` at top level"),))
    facts = _Facts(name, module, path, tree, call.lineno)
    _from_source(facts, call)
    if entry is not None:
        meta = entry.meta
        facts.alt = meta["alt"]
        facts.values = list(meta["values"])
        facts.claims = [(c["name"], _entry_nulls(c)) for c in meta["claims"]]
        facts.params = dict(meta["params"])
    out: list[Finding] = []
    unchecked: list[str] = []
    for rule, run in (
        ("alt-values", _alt_values),
        ("methods", _methods),
        ("params-rows", _params_rows),
        ("palette", _palette),
        ("identifiers", _identifiers),
        ("null-names", _null_names),
    ):
        result = run(facts, index, engine)
        if result is None:
            unchecked.append(rule)
        else:
            out += [Finding(name, rule, where, message) for where, message in result]
    return Report(name, tuple(out), tuple(unchecked))


# ------------------------------------------------------------------ facts from source


def _from_source(facts: _Facts, call: ast.Call) -> None:
    """Alt text, value names and claims where the source gives them as literals."""
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    for key, node in keywords.items():
        facts.lines[key] = node.lineno
    alt = _string(facts.tree, keywords.get("alt"))
    if alt is not None:
        facts.alt = alt
    values = keywords.get("values")
    if isinstance(values, ast.Dict) and all(
        isinstance(k, ast.Constant) and isinstance(k.value, str) for k in values.keys
    ):
        facts.values = [k.value for k in values.keys]  # type: ignore[union-attr]
    claims = keywords.get("claims")
    if isinstance(claims, ast.Tuple | ast.List):
        found = [_claim(node) for node in claims.elts]
        for node, claim in zip(claims.elts, found, strict=True):
            if claim is not None:
                facts.lines[f"claim:{claim[0]}"] = node.lineno
        if all(c is not None for c in found):
            facts.claims = found  # type: ignore[assignment]


def _string(tree: ast.Module, node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):  # a module-level constant: its last assignment
        name = node.id
        for top in tree.body:
            if isinstance(top, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in top.targets
            ):
                node = top.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _claim(node: ast.expr) -> tuple[str, list[tuple[str, str]]] | None:
    """`Claim(name="...", null=Null(values={...}) or (Null(...), ...))` with literal names,
    else None."""
    if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Claim"):
        return None
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    name = keywords.get("name")
    null = keywords.get("null")
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    calls = null.elts if isinstance(null, ast.Tuple | ast.List) else [null]
    pairs: list[tuple[str, str]] = []
    for call in calls:
        if not isinstance(call, ast.Call):
            return None  # a null built elsewhere: read from the entry once built
        values = next((k.value for k in call.keywords if k.arg == "values"), None)
        try:
            pairs += list((ast.literal_eval(values) if values is not None else {}).items())
        except (ValueError, TypeError, SyntaxError):
            return None
    return name.value, pairs


def _entry_nulls(claim: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, null value) pairs of a recorded claim: its `nulls` (each with `values`),
    or the older single `null_values`."""
    if "nulls" in claim:
        return [pair for null in claim["nulls"] for pair in dict(null["values"]).items()]
    return list(dict(claim.get("null_values") or {}).items())


def _helper_modules(tree: ast.Module, package: str) -> list[str]:
    """Modules of the figures package that `tree` imports (`from pkg._toy import x`,
    `from pkg import _toy`)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith(package + "."):
                found.append(node.module)
            elif node.module == package:
                found += [f"{package}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith(package + ".")]
    return sorted(set(found))


# ------------------------------------------------------------------ the rules, applied

Result = list[tuple[str, str]] | None
"""(where, message) per finding; None when the rule could not run (not built)."""


def _alt_values(facts: _Facts, index: SourceIndex, engine: Engine) -> Result:
    if facts.alt is None:
        return None
    problems = rules.alt_problems(facts.name, facts.alt, find_directives(facts.alt),
                                  facts.values)
    return [(facts.where("alt"), problem) for problem in problems]


def _methods(facts: _Facts, index: SourceIndex, engine: Engine) -> Result:
    try:
        methods = index.figure_text(facts.module, "methods")
    except SourceTextError as error:
        return [(facts.where("methods"), str(error))]

    def setting_problem(path: str) -> str | None:
        try:
            index.setting(path)
        except SourceTextError as error:
            return str(error)
        return None

    problems = rules.methods_problems(methods, find_directives(methods), setting_problem)
    return [(facts.where("methods"), problem) for problem in problems]


def _params_rows(facts: _Facts, index: SourceIndex, engine: Engine) -> Result:
    if facts.params is None:
        return None
    rows = {row.path: row.doc for row in index.param_rows(facts.module, facts.params)}
    problems = rules.params_rows_problems(rows, param_paths(facts.params))
    return [(facts.where("params"), problem) for problem in problems]


def _palette(facts: _Facts, index: SourceIndex, engine: Engine) -> Result:
    out = [(f"{facts.path}:{line}", problem) for line, problem in rules.off_palette(facts.tree)]
    for helper in _helper_modules(facts.tree, engine.figures_package):
        try:
            tree = index.tree(helper)
        except SourceTextError:
            continue  # not a file of the project (a name imported from the package)
        path = index.relative(index.file(helper))  # type: ignore[arg-type]
        out += [(f"{path}:{line}", problem) for line, problem in rules.off_palette(tree)]
    return out


def _identifiers(facts: _Facts, index: SourceIndex, engine: Engine) -> Result:
    if facts.values is None and facts.claims is None:
        return None
    out = [(facts.where("values"), p) for p in rules.identifier_problems(facts.values or [], [])]
    names = [name for name, _ in facts.claims or []]
    return out + [(facts.where("claims"), p) for p in rules.identifier_problems([], names)]


def _null_names(facts: _Facts, index: SourceIndex, engine: Engine) -> Result:
    if facts.claims is None:
        return None
    out = []
    for claim, nulls in facts.claims:
        where = facts.where(f"claim:{claim}") if f"claim:{claim}" in facts.lines else (
            facts.where("claims"))
        for real, null in nulls:
            problem = rules.null_name_problem(real, null)
            if problem:
                out.append((where, f"claim {claim}: {problem}"))
    return out
