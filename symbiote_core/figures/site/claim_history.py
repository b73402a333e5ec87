"""When each claim's threshold was set, read from the git history of its figure module.

For every claim the reader sees when its threshold (comparison, right side, margin and
aggregate) took its present form, and whether that was before or after the first commit
in which the claim's values existed. A threshold changed after its values existed is
*revised after results*, shown with the old and new setting and the commit.

How it is read: every revision of the figure module (`git log --follow`) is parsed, not
imported, and each `Claim(...)` call is evaluated statically (`_Static`): literals,
module-level constants, simple arithmetic, f-strings, and claims built by a helper
function called with static arguments (one level). A claim the parser cannot follow is
shown as not traced, never guessed. The claim's *values existed* from the first revision
in which both of its value names appear in the module outside its claims, as strings or
as what one of its f-strings could build (erring towards existing: a value computed
before a claim was written about it counts), or else from the claim's first revision.
Git cannot tell which came first within one commit: a threshold set in the commit that
first computed its values is shown as set *with* its values, not before them.

This is site work: figure data never depends on git (a cache entry is the same from a
tarball). The present setting comes from the cache entry that was evaluated, so a
threshold edited but not committed shows as such.
"""

from __future__ import annotations

import ast
import itertools
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from symbiote_core.figures.engine import memo
from symbiote_core.figures.site.history import git_output, ref_files

_RECORD, _UNIT = "\x1e", "\x1f"
_UNKNOWN = object()
CLAIM_FIELDS = ("left", "op", "right", "margin", "aggregate")
"""The parts of a claim that make its comparison and threshold."""
DEFAULTS = {"margin": 0.0, "aggregate": "every_seed"}

Status = Literal[
    "set before its values",
    "set with its values",
    "set after results",
    "revised after results",
    "not committed",
    "not traced",
    "no history",
]
STATUS_WORDS: dict[str, str] = {
    "set before its values": "set before its values existed",
    "set with its values": "set in the commit that first computed its values (git cannot "
    "tell which came first)",
    "set after results": "set after its values existed",
    "revised after results": "revised after results",
    "not committed": "changed in the working tree, not committed yet",
    "not traced": "not traced",
    "no history": "no git history here",
}
BEFORE_THE_RUNS = (
    "before the runs",
    "before any run",
    "before the data",
    "before the results",
    "before seeing",
    "in advance",
    "pre-registered",
    "preregistered",
)
"""Phrases in a claim's `why` that say its threshold was set before its values existed:
the appendix flags them unless the history shows it (`unsupported_why`)."""


@dataclass(frozen=True)
class Setting:
    """A claim's threshold in one revision; a part the parser could not evaluate is its
    source text in angle brackets."""

    left: Any
    op: Any
    right: Any
    margin: Any
    aggregate: Any

    @property
    def names(self) -> set[str]:
        """The value names it compares."""
        return {n for n in (self.left, self.right) if isinstance(n, str) and not _is_source(n)}

    def text(self) -> str:
        right = self.right if isinstance(self.right, str) else f"{self.right:.4g}"
        margin = ""
        if isinstance(self.margin, int | float):
            if self.margin:
                margin = f" {'+' if self.margin > 0 else '−'} {abs(self.margin):.4g}"
        else:
            margin = f" + {self.margin}"
        return f"{self.left} {self.op} {right}{margin} ({self.aggregate})"

    @property
    def traced(self) -> bool:
        return not any(_is_source(getattr(self, f)) for f in CLAIM_FIELDS)

    @classmethod
    def of_claim(cls, claim: Mapping[str, Any]) -> Setting:
        """The setting a cache entry's claim was evaluated with."""
        return cls(
            claim["left"],
            claim["op"],
            claim["right"],
            claim.get("margin") or 0.0,
            claim.get("aggregate", "every_seed"),
        )


@dataclass(frozen=True)
class Commit:
    sha: str
    day: str

    @property
    def short(self) -> str:
        return self.sha[:7]


@dataclass(frozen=True)
class Revision:
    commit: Commit
    settings: Mapping[str, Setting]
    """Claim name -> its setting in this revision (claims the parser could follow)."""
    strings: frozenset[str]
    """Every string constant of the module outside its `Claim(...)` calls (the names of
    the values it computes among them)."""
    patterns: tuple[str, ...] = ()
    """Every f-string outside its claims as a regular expression (each replacement
    field matches anything): names the module may build, such as f"accuracy_{key}"."""

    def may_define(self, names: Iterable[str]) -> bool:
        """Whether every name is a string of the module or could be built by one of its
        f-strings (erring towards yes: values that may exist count as existing)."""
        return all(
            name in self.strings or any(re.fullmatch(p, name) for p in self.patterns)
            for name in names
        )


@dataclass
class ModuleHistory:
    """Every committed revision of one figure module, oldest first."""

    available: bool = False
    shallow: bool = False
    revisions: list[Revision] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    commit: Commit | None
    """None: the working tree."""
    old: Setting
    new: Setting
    after_values: bool


@dataclass(frozen=True)
class ThresholdRecord:
    status: Status
    values_since: Commit | None = None
    set_in: Commit | None = None
    changes: tuple[Change, ...] = ()
    note: str = ""

    @property
    def before_values(self) -> bool:
        return self.status == "set before its values"


def module_history(root: Path, module: str) -> ModuleHistory:
    """The history of `module` (a path under `root`), memoised on the refs that fix HEAD."""
    stats = memo.Stats()
    refs = ref_files(root)
    if refs is None:
        return ModuleHistory()
    for path in refs:
        stats(path)
    key = (root, module)
    cached = _HISTORIES.get(key, stats)
    if cached is not None:
        return cached
    history = _read_history(root, module)
    _HISTORIES.put(key, history, ref_files(root) or refs, stats)
    return history


_HISTORIES: memo.Memo[ModuleHistory] = memo.Memo("claim histories")


def _read_history(root: Path, module: str) -> ModuleHistory:
    fmt = _RECORD + _UNIT.join(["%H", "%cs"])
    out = git_output(root, "log", f"--format={fmt}", "--name-only", "--follow", "--", module)
    if out is None:
        return ModuleHistory()
    shallow = (git_output(root, "rev-parse", "--is-shallow-repository") or "").strip() == "true"
    entries: list[tuple[Commit, str]] = []
    for record in out.split(_RECORD)[1:]:
        head, _, names = record.partition("\n")
        sha, day = head.split(_UNIT)[:2]
        paths = [line.strip() for line in names.splitlines() if line.strip()]
        entries.append((Commit(sha, day), paths[-1] if paths else module))
    entries.reverse()  # oldest first
    blobs = _read_blobs(root, [f"{c.sha}:{path}" for c, path in entries])
    revisions = []
    for (commit, _), source in zip(entries, blobs, strict=True):
        if source is None:  # deleted in this commit (or not readable)
            revisions.append(Revision(commit, {}, frozenset()))
            continue
        settings, strings, patterns = parse_module(source)
        revisions.append(Revision(commit, settings, strings, patterns))
    return ModuleHistory(available=True, shallow=shallow, revisions=revisions)


def _read_blobs(root: Path, specs: list[str]) -> list[str | None]:
    """The text of each `commit:path`, through one `git cat-file --batch`."""
    if not specs:
        return []
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "cat-file", "--batch"],
            input="\n".join(specs).encode() + b"\n",
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return [None] * len(specs)
    out, pos, texts = result.stdout, 0, []
    for _ in specs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] != b"blob":
            texts.append(None)
            continue
        size = int(header[2])
        texts.append(out[pos : pos + size].decode("utf-8", errors="replace"))
        pos += size + 1
    return texts


# ----------------------------------------------------------------- static reading


def parse_claims(source: str) -> tuple[dict[str, Setting], frozenset[str]]:
    """Every `Claim(...)` the parser can follow in `source`: name -> setting; and every
    string constant of the module outside its claims."""
    settings, strings, _ = parse_module(source)
    return settings, strings


def parse_module(source: str) -> tuple[dict[str, Setting], frozenset[str], tuple[str, ...]]:
    """`parse_claims`, and the module's f-strings as patterns (`Revision.patterns`)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}, frozenset(), ()
    # One walk of the module (and one of its functions, for each node's enclosing
    # top-level function), shared by every question below: a history parses hundreds of
    # revisions, and walking the tree once per claim made that seconds a build.
    nodes = list(ast.walk(tree))
    calls: dict[str | None, list[ast.Call]] = {}
    for node in nodes:
        if isinstance(node, ast.Call):
            calls.setdefault(_called(node), []).append(node)
    claims = calls.get("Claim", [])
    inside = {id(n) for call in claims for n in ast.walk(call)}
    outside = [n for n in nodes if id(n) not in inside]
    strings = frozenset(
        n.value for n in outside if isinstance(n, ast.Constant) and isinstance(n.value, str)
    )
    patterns = tuple(
        sorted({_pattern(n) for n in outside if isinstance(n, ast.JoinedStr)} - {".*"})
    )
    env = _module_constants(tree)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    owners: dict[int, ast.FunctionDef] = {}
    for top in tree.body:
        if isinstance(top, ast.FunctionDef):
            for node in ast.walk(top):
                owners.setdefault(id(node), top)
    settings: dict[str, Setting] = {}
    for call in claims:
        owner = owners.get(id(call))
        if owner is None:
            _add(settings, call, env)
            continue
        # A helper that builds claims: evaluate it at every call with static arguments.
        for use in calls.get(owner.name, ()):
            local = _bind(owner, use, env)
            if local is not None:
                _run_locals(functions[owner.name], local)
                _add(settings, call, local)
    return settings, strings, patterns


def _pattern(node: ast.JoinedStr) -> str:
    parts = [re.escape(str(v.value)) if isinstance(v, ast.Constant) else ".*" for v in node.values]
    return re.sub(r"(\.\*)+", ".*", "".join(parts))


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _add(settings: dict[str, Setting], call: ast.Call, env: Mapping[str, Any]) -> None:
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    name = _static(keywords.get("name"), env) if "name" in keywords else _UNKNOWN
    if not isinstance(name, str):
        return
    parts = {}
    for part in CLAIM_FIELDS:
        node = keywords.get(part)
        if node is None:
            parts[part] = DEFAULTS.get(part, _UNKNOWN)
            continue
        value = _static(node, env)
        parts[part] = f"<{ast.unparse(node)}>" if value is _UNKNOWN else value
    if isinstance(parts["margin"], int):
        parts["margin"] = float(parts["margin"])
    settings[name] = Setting(**parts)


def _module_constants(tree: ast.Module) -> dict[str, Any]:
    env: dict[str, Any] = {}
    for node in tree.body:
        _assign(node, env)
    return env


def _assign(node: ast.stmt, env: dict[str, Any]) -> None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    else:
        return
    result = _static(value, env)
    if isinstance(target, ast.Name):
        if result is _UNKNOWN:
            env.pop(target.id, None)
        else:
            env[target.id] = result
    elif isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        names = [e.id for e in target.elts]  # type: ignore[attr-defined]
        if isinstance(result, tuple) and len(result) == len(names):
            env.update(zip(names, result, strict=True))
        else:
            for n in names:
                env.pop(n, None)


def _bind(function: ast.FunctionDef, call: ast.Call, env: Mapping[str, Any]) -> dict | None:
    """The helper's parameters bound to the call's static arguments (None if any is not)."""
    params = [a.arg for a in function.args.args]
    local = dict(env)
    defaults = function.args.defaults
    for name, default in zip(params[len(params) - len(defaults) :], defaults, strict=True):
        local[name] = _static(default, env)
    for name, arg in zip(params, call.args, strict=False):
        local[name] = _static(arg, env)
    for keyword in call.keywords:
        if keyword.arg:
            local[keyword.arg] = _static(keyword.value, env)
    return local


def _run_locals(function: ast.FunctionDef, local: dict[str, Any]) -> None:
    for node in function.body:
        _assign(node, local)


def _static(node: ast.AST | None, env: Mapping[str, Any]) -> Any:
    """The value of a static expression, or `_UNKNOWN`."""
    if node is None:
        return _UNKNOWN
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env.get(node.id, _UNKNOWN)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _static(node.operand, env)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
        return _UNKNOWN
    if isinstance(node, ast.BinOp):
        a, b = _static(node.left, env), _static(node.right, env)
        ops = {
            ast.Add: lambda x, y: x + y,
            ast.Sub: lambda x, y: x - y,
            ast.Mult: lambda x, y: x * y,
            ast.Div: lambda x, y: x / y,
        }
        op = ops.get(type(node.op))
        if op is None or a is _UNKNOWN or b is _UNKNOWN:
            return _UNKNOWN
        try:
            return op(a, b)
        except (TypeError, ZeroDivisionError):
            return _UNKNOWN
    if isinstance(node, ast.Tuple | ast.List):
        items = tuple(_static(e, env) for e in node.elts)
        return _UNKNOWN if any(i is _UNKNOWN for i in items) else items
    if isinstance(node, ast.IfExp):
        test = _static(node.test, env)
        if test is _UNKNOWN:
            return _UNKNOWN
        return _static(node.body if test else node.orelse, env)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue) and value.format_spec is None:
                inner = _static(value.value, env)
                if inner is _UNKNOWN or value.conversion not in (-1, 115):
                    return _UNKNOWN
                parts.append(str(inner))
            else:
                return _UNKNOWN
        return "".join(parts)
    return _UNKNOWN


def _is_source(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("<") and value.endswith(">")


# ------------------------------------------------------------------- the record


def threshold_record(history: ModuleHistory, claim: Mapping[str, Any]) -> ThresholdRecord:
    """When the threshold `claim` (a cache entry's claim JSON) was evaluated with was set,
    and every change it went through, from `history`."""
    if not history.available:
        return ThresholdRecord("no history", note="no git history here (not a clone)")
    name = claim["name"]
    names = {claim["left"]} | ({claim["right"]} if isinstance(claim["right"], str) else set())
    current = Setting.of_claim(claim)
    seen = [
        (i, r.commit, r.settings[name])
        for i, r in enumerate(history.revisions)
        if name in r.settings
    ]
    # Its values existed from the first revision that names them outside a claim, or,
    # for names the parser cannot see (built by code), from the claim's first revision.
    named = [i for i, r in enumerate(history.revisions) if r.may_define(names)]
    first_values = named[0] if named else (seen[0][0] if seen else None)
    # Results of the claim existed once any version of it could be evaluated: a claim
    # redefined on other quantities after its first version ran was revised after results.
    evaluable = [i for i, _, setting in seen if history.revisions[i].may_define(setting.names)]
    results_since = min(
        [*evaluable[:1], *([first_values] if first_values is not None else [])], default=None
    )
    values_since = history.revisions[first_values].commit if first_values is not None else None
    note = (
        "a shallow clone: the history is cut, so the first revision held may not be the first"
        if history.shallow
        else ""
    )
    if not seen:
        return ThresholdRecord("not committed", values_since, note="the claim is not committed yet")
    if not seen[-1][2].traced:
        return ThresholdRecord(
            "not traced",
            values_since,
            note=f"the parser could not evaluate {seen[-1][2].text()} statically",
        )
    changes = [
        Change(commit, old, new, results_since is not None and i > results_since)
        for (_, _, old), (i, commit, new) in itertools.pairwise(seen)
        if old != new
    ]
    committed = seen[-1][2]
    if committed != current:
        changes.append(Change(None, committed, current, first_values is not None))
        return ThresholdRecord("not committed", values_since, None, tuple(changes), note)
    # The present setting took effect after the last revision that differed from it.
    different = [k for k, (_, _, setting) in enumerate(seen) if setting != current]
    set_at, set_in = seen[different[-1] + 1 if different else 0][:2]
    if any(change.after_values for change in changes):
        status: Status = "revised after results"
    elif first_values is None or set_at < first_values:
        status = "set before its values"
    elif set_at == first_values:
        status = "set with its values"
    else:
        status = "set after results"
    return ThresholdRecord(status, values_since, set_in, tuple(changes), note)


def unsupported_why(claim: Mapping[str, Any], record: ThresholdRecord) -> str | None:
    """The phrase of `claim`'s `why` that says its threshold came before its values,
    when the history does not show that; else None."""
    why = str(claim.get("why", "")).lower()
    for phrase in BEFORE_THE_RUNS:
        if phrase in why and not record.before_values:
            return phrase
    return None


def histories(root: Path, modules: Iterable[str]) -> dict[str, ModuleHistory]:
    """`module_history` for each module path (relative to `root`)."""
    return {module: module_history(root, module) for module in set(modules)}
