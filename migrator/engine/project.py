"""The first pass of a fix run: whole-program facts (:class:`~migrator.rules.project.ProjectView`).

Only files that pass the pre-filter are parsed, plus the project modules they import and the modules that
import them (found by a text check first), transitively: a tree of unrelated code is read, not parsed.
Modules that a parsed file imports but that are not in the run are read from disk when they can be found
next to it (so a single-file run still sees ``from config import setup``) and named in ``unseen``: the plan
knows what they do, but they are not rewritten.

Never raises for bad input: a file that cannot be read or parsed is left out and named in ``unseen``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from migrator.engine.prefilter import prefilter_for
from migrator.engine.source import SourceError, read_source
from migrator.rules.project import ProjectView

__all__ = ["ENVIRONMENT", "build_project", "module_name", "plan_run"]

# The prefix of plan_run's lines about old environment variables (``apply`` lists them with what needs a
# human; the other lines are the client plan).
ENVIRONMENT = "environment: "


def module_name(path: str) -> tuple[str, str]:
    """(dotted module name, root directory) of the file at ``path``: packages are found through their
    ``__init__.py`` files; a file outside any package is a top-level module of its own directory."""
    path = os.path.abspath(path)
    directory, filename = os.path.split(path)
    stem = filename.removesuffix(".py")
    parts = [] if stem == "__init__" else [stem]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
        if not package:
            break
    return ".".join(parts) or stem, directory


def _find_on_disk(root: str, module: str) -> str | None:
    base = os.path.join(root, *module.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


_IMPORT_LINE = re.compile(r"^[ \t]*(?:from|import)\b[^\n]*", re.MULTILINE)
_WORD = re.compile(r"\w+")


class _Importers:
    """Which files may import a module: those with an import line naming its last part (sound: a
    relative import of it counts). Built once from every file's import lines, not by scanning every file
    again for each module the pass visits."""

    def __init__(self) -> None:
        self.by_word: dict[str, list[str]] = {}

    def add(self, path: str, text: str) -> None:
        words = {w for line in _IMPORT_LINE.findall(text) for w in _WORD.findall(line)}
        for word in words:
            self.by_word.setdefault(word, []).append(path)

    def of(self, module: str) -> list[str]:
        return self.by_word.get(module.rsplit(".", 1)[-1], [])


def _is_sdk(module: str) -> bool:
    """A module of the openai package itself (a run over a vendored or installed SDK): the rules read
    ``openai.X`` as the SDK's, so the pass never follows into it as project code."""
    return module == "openai" or module.startswith("openai.")


def build_project(
    files: Sequence[str],
    codes: Sequence[str],
    read: Callable[[str], str] | None = None,
) -> ProjectView:
    """Summarise the modules among ``files`` that matter to the openai rules and combine them."""
    import libcst as cst

    from migrator.engine.limits import parse_module
    from migrator.rules.openai_v0.program import ModuleSummary, summarise

    def read_text(path: str) -> str:
        if read is not None:
            return read(path)
        return read_source(path).text

    python = [f for f in files if f.endswith(".py")]
    names: dict[str, str] = {}  # path -> module
    roots: dict[str, str] = {}  # path -> root directory
    for path in python:
        names[path], roots[path] = module_name(path)
    texts: dict[str, str] = {}
    unseen: list[str] = []
    # Separate programs in one run may both have a `main`: such files are planned from themselves alone.
    claims: dict[str, list[str]] = {}
    for path, name in names.items():
        claims.setdefault(name, []).append(path)
    for name, paths in claims.items():
        if len(paths) > 1:
            unseen.append(f"module name {name} is used by {len(paths)} files: imports of it are not followed")
            for number, path in enumerate(sorted(paths), start=1):
                names[path] = f"{name}@{number}"  # not a Python name: nothing resolves to it by accident
    by_module = {m: p for p, m in names.items()}

    def text_of(path: str) -> str | None:
        if path not in texts:
            try:
                texts[path] = read_text(path)
            except (SourceError, OSError, UnicodeDecodeError) as exc:
                unseen.append(f"{path}: not read ({exc})")
                texts[path] = ""
                return None
        return texts[path]

    # The pass starts from the modules that may use the v0 API (its rules that need a legacy import or a
    # pattern could fire there) and follows imports from them and to them. A module that only names a model
    # id or an exception attribute of the current SDK has no v0 fact to give.
    from migrator.rules.registry import BY_CODE

    seeds = tuple(c for c in codes if c.startswith("OAI") and (
        BY_CODE[c].legacy_openai or BY_CODE[c].pattern or BY_CODE[c].parameter_keys))
    prefilter = prefilter_for(seeds, True) if seeds else None
    importers = _Importers()
    wanted = []
    for path in python:
        text = text_of(path)
        if text:
            importers.add(path, text)
            if prefilter is not None and prefilter.candidate_rules(text):
                wanted.append(path)
    summaries: dict[str, ModuleSummary] = {}
    parsed_modules: dict[str, cst.Module] = {}
    queue = list(wanted)
    outside: set[str] = set()
    while queue:
        path = queue.pop()
        if path in summaries or _is_sdk(names.get(path, "")):
            continue
        text = text_of(path)
        if text is None:
            continue
        try:
            parsed = parse_module(text)  # CPython's parser first: deep nesting crashes libcst's
            summary = summarise(path, names[path], parsed)
        except Exception as exc:  # noqa: BLE001 - a file the first pass cannot read is only left out
            unseen.append(f"{path}: not analysed ({type(exc).__name__})")
            continue
        summaries[path] = summary
        parsed_modules[path] = parsed
        # Project modules this one imports (known files first, then files next to it on disk).
        for imported in sorted(summary.imports):
            for candidate in (imported, imported.rpartition(".")[0]):
                if not candidate or _is_sdk(candidate):
                    continue
                found = by_module.get(candidate)
                if found is None:
                    found = _find_on_disk(roots[path], candidate)
                    if found is not None and found not in names:
                        names[found], roots[found] = module_name(found)
                        if names[found] != candidate:
                            found = None
                        else:
                            by_module[candidate] = found
                            outside.add(found)
                if found is not None and found not in summaries:
                    queue.append(found)
                if found is not None:
                    break
        # Modules of the run that import this one (their call sites matter for parameters).
        queued = set(queue)
        for other in importers.of(summary.module):
            if other not in summaries and other not in queued:
                queue.append(other)
                queued.add(other)
    for path in sorted(outside):
        unseen.append(f"{path}: imported but not in this run (read, not rewritten)")
    # Second pass, only for modules that import from the project: names now resolve through re-exports.
    first = combine(summaries.values(), names, complete=False)
    known = set(names.values())
    through = _through(first, known)
    for path, summary in list(summaries.items()):
        if summary.stars or any(i in known or i.rpartition(".")[0] in known for i in summary.imports):
            try:
                summaries[path] = summarise(path, names[path], parsed_modules[path], through)
            except Exception as exc:  # noqa: BLE001
                unseen.append(f"{path}: not analysed ({type(exc).__name__})")
    view = combine(summaries.values(), names, complete=len(python) > 1, unseen=unseen)
    length = project_line_length(python)
    return replace(view, line_length=length) if length is not None else view


def project_line_length(files: Sequence[str]) -> int | None:
    """``line-length`` of ``[tool.ruff]`` (or ``[tool.black]``) in the pyproject.toml nearest above the
    files' common directory; None when there is none (or it cannot be read)."""
    from migrator.engine.config import tomllib

    if not files:
        return None
    directory = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files])
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as handle:
                    tool = tomllib.load(handle).get("tool", {})
            except (OSError, tomllib.TOMLDecodeError):
                return None
            for section in ("ruff", "black"):
                value = tool.get(section, {}).get("line-length") if isinstance(tool.get(section), dict) else None
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    return value
            return None
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _through(view: ProjectView, known: set[str]) -> Callable[[str], str | None]:
    """Maps ``pkg.common.openai.ChatCompletion`` to ``openai.ChatCompletion`` when pkg.common re-exports
    openai; None when no project module is involved."""

    def resolve(qualname: str) -> str | None:
        parts = qualname.split(".")
        for i in range(len(parts) - 1, 0, -1):
            head = ".".join(parts[:i])
            if head in known:
                found = view.resolve_export(head, parts[i])
                if found is not None and found != qualname:
                    return ".".join([found, *parts[i + 1:]])
                return None
        return None

    return resolve


def combine(summaries: Iterable, names: dict[str, str], complete: bool, unseen: Sequence[str] = ()) -> ProjectView:
    """The view built from module summaries (``names``: path -> module of every file known)."""
    summaries = sorted(summaries, key=lambda s: s.module)
    known = set(names.values())
    imports = set()
    exports: list[tuple[str, str, str]] = []
    stars: list[tuple[str, str]] = []
    for summary in summaries:
        # A submodule's import first imports its packages: pkg/__init__.py runs before pkg.mod.
        parts = summary.module.split(".")
        for depth in range(1, len(parts)):
            if ".".join(parts[:depth]) in known:
                imports.add((summary.module, ".".join(parts[:depth])))
        for imported in summary.imports:
            target = imported if imported in known else imported.rpartition(".")[0]
            if target in known and target != summary.module:
                imports.add((summary.module, target))
        exports.extend((summary.module, name, qualified) for name, qualified in sorted(summary.exports.items()))
        stars.extend((summary.module, source) for source in summary.stars if source in known)
    base = ProjectView(
        complete=complete,
        modules=tuple(sorted(names.items())),
        imports=tuple(sorted(imports)),
        exports=tuple(exports),
        star_imports=tuple(stars),
    )

    def canonical(qualname: str) -> str:
        """A function's defining name: ``pkg.ask`` re-exported from ``pkg.impl`` -> ``pkg.impl.ask``."""
        head, _, last = qualname.rpartition(".")
        if head in known:
            resolved = base.resolve_export(head, last)
            if resolved is not None:
                return resolved
        return qualname

    params: dict[str, list[str]] = {}
    returns: dict[str, list] = {}
    escapes: set[str] = set()
    sites: list[tuple[str, tuple]] = []
    for summary in summaries:
        params.update(summary.params)
        returns.update(summary.returns)
        escapes.update(canonical(e) for e in summary.escapes)
        sites.extend((canonical(callee), args) for callee, args in summary.call_sites)

    responding: set[str] = set()
    receiving: set[tuple[str, str]] = set()

    def is_response(origin) -> bool:
        if origin is None:
            return False
        if origin[0] == "v0":
            return True
        if origin[0] == "fn":
            function, hash_, index = origin[1].partition("#")  # "f#1": the 2nd value of `return a, b`
            return canonical(function) + hash_ + index in responding
        if origin[0] == "param":
            return (origin[1], origin[2]) in receiving
        return False

    by_callee: dict[str, list[tuple]] = {}
    for callee, args in sites:
        if callee + ".__init__" in params:
            callee += ".__init__"
        by_callee.setdefault(callee, []).append(args)
    changed = True
    while changed:
        changed = False
        for function, origins in returns.items():
            whole = function.partition("#")[0]
            if "#" in function and not all(o == ("tuple",) for o in returns.get(whole, ())):
                continue  # some return of the function is no tuple: its positions are unknown
            if function not in responding and origins and all(is_response(o) for o in origins):
                responding.add(function)
                changed = True
        for function, names_ in params.items():
            calls = by_callee.get(function)
            if not calls or function in escapes:
                continue
            positional = names_[1:] if names_ and names_[0] in ("self", "cls") else names_
            for index, name in enumerate(positional):
                if (function, name) in receiving:
                    continue
                if all(is_response(_argument(args, index, name)) for args in calls):
                    receiving.add((function, name))
                    changed = True

    config = tuple(site for summary in summaries for site in summary.config)
    through = tuple(s.module for s in summaries if _reaches_openai_through(base, s, known))
    v0_calls = tuple((s.module, s.sync_calls, s.async_calls) for s in summaries if s.sync_calls or s.async_calls)
    return ProjectView(
        complete=complete,
        modules=base.modules,
        config=config,
        imports=base.imports,
        exports=base.exports,
        star_imports=base.star_imports,
        response_functions=frozenset(responding),
        response_parameters=tuple(sorted(receiving)),
        v0_calls=v0_calls,
        unseen=tuple(unseen),
        dual_sdk=tuple(s.module for s in summaries if s.dual_sdk),
        local_openai=tuple(s.module for s in summaries if s.local_openai),
        openai_through=through,
        kwargs_functions=frozenset(canonical(q) for summary in summaries for q in summary.kwargs_sources),
    )


def _reaches_openai_through(view: ProjectView, summary, known: set[str]) -> bool:
    """Whether the module gets ``openai`` (or a part of it) from a project module that re-exports it."""
    for qualified in summary.exports.values():
        head, _, last = qualified.rpartition(".")
        if head in known:
            found = view.resolve_export(head, last)
            if found is not None and found.split(".")[0] == "openai":
                return True
    return any(
        (found := view.resolve_export(source, "openai")) is not None and found.split(".")[0] == "openai"
        for source in summary.stars if source in known
    )


def _argument(args: tuple, index: int, name: str):
    """The origin of the argument bound to parameter ``name`` (``index``-th positional)."""
    for key, origin in args:
        if key == "*":
            return None
        if key == index or key == name:
            return origin
    return None


def plan_run(files: Sequence[str], codes: Sequence[str], options):
    """``options`` (FixOptions) with the whole program's view, and the client plan of each module as
    lines for the user (``path: plan: reason``)."""
    from migrator.rules.openai_v0.planning import environment_lines, plan_lines
    from migrator.targets import TargetError, parse_target

    try:
        view = build_project(files, codes)
    except Exception as exc:  # noqa: BLE001 - never a traceback: files are then planned from themselves
        return options, [f"not seen: the whole-program view failed ({type(exc).__name__}); each file is planned alone"]
    provider = None
    if options.target:
        try:
            target = parse_target(options.target)
        except TargetError:
            target = None
        if target is not None and target.provider.kind == "api" and target.provider.name != "openai":
            provider = target.provider.name
    lines = plan_lines(view, options.client_style, provider)
    lines.extend(f"{ENVIRONMENT}{line}" for line in environment_lines(view, options.client_style, provider))
    return replace(options, project=view), lines
