"""What a rule may know about the rest of the program: facts gathered from every module before fixing.

The engine builds a :class:`ProjectView` in a first pass over the whole set of files (which module
configures the openai SDK, where; who imports whom; which functions return v0 responses and which
parameters receive them) and hands it to every file's analysis through the run options. A single-file run,
or a file outside any known package, gets the empty view: rules then fall back to what the file itself
shows, and say so where it matters.

Everything here is plain, picklable data (tuples of tuples and frozen records): the view travels to
worker processes. Lookups build private dictionaries on first use.

The query methods (``returns_response``, ``response_params``, ``resolve_export``, ``config_sites``,
``foreign_config``, ``calls_v0``) are a stable API shared by the rule families; add new ones rather than
changing these.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

# Where a configuration assignment stands (ConfigSite.where).
TOP = "top"  # unconditionally at a module's top level
FUNCTION = "function"  # in a module-level function
METHOD = "method"  # in a method of a class
BRANCH = "branch"  # at top level, but under if/try/with/for/while


@dataclass(frozen=True)
class ConfigSite:
    """One assignment of ``openai.<name>`` (api_key, api_base, organization, api_version, api_type)."""

    module: str  # dotted module name
    name: str  # the v0 global assigned
    where: str  # TOP, FUNCTION, METHOD or BRANCH
    scope: str = ""  # qualified name of the enclosing function/method ('' at top level)
    line: int = 0
    value: str | None = None  # the assigned string literal, when it is one
    after_dotenv: bool = False  # a load_dotenv()/os.environ change runs before it in the same scope


@dataclass(frozen=True)
class ProjectView:
    """Whole-program facts, keyed by dotted module names (``pkg.sub.mod``) and qualified names."""

    complete: bool = False  # False: built from one file only (what other modules do is unknown)
    modules: tuple[tuple[str, str], ...] = ()  # (path, dotted module name) of every analysed file
    config: tuple[ConfigSite, ...] = ()  # every openai.* configuration assignment seen
    imports: tuple[tuple[str, str], ...] = ()  # (module, project module it imports)
    exports: tuple[tuple[str, str, str], ...] = ()  # (module, name, what the name is: a qualified name)
    star_imports: tuple[tuple[str, str], ...] = ()  # (module, module it star-imports)
    response_functions: frozenset[str] = frozenset()  # qualnames of functions returning v0 responses
    response_parameters: tuple[tuple[str, str], ...] = ()  # (function qualname, parameter) always a response
    v0_calls: tuple[tuple[str, bool, bool], ...] = ()  # (module, has sync v0 calls, has async v0 calls)
    unseen: tuple[str, ...] = ()  # what the view could not see (said in plans made from it)
    dual_sdk: tuple[str, ...] = ()  # modules with a both-SDKs guard (their legacy branch is left alone)
    local_openai: tuple[str, ...] = ()  # modules that import openai only inside functions
    openai_through: tuple[str, ...] = ()  # modules that reach openai only through a project re-export
    line_length: int = 88  # the project's line length ([tool.ruff] / [tool.black] line-length), for generated code
    kwargs_functions: frozenset[str] = frozenset()  # qualnames of functions whose result is **-splatted into v0 calls

    # -- modules ----------------------------------------------------------------------------------
    @cached_property
    def _module_by_path(self) -> dict[str, str]:
        return dict(self.modules)

    def module_of(self, path: str) -> str | None:
        """The dotted name of the module at ``path``, if the project knows it."""
        return self._module_by_path.get(path)

    @cached_property
    def _import_edges(self) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
        forward: dict[str, set[str]] = {}
        backward: dict[str, set[str]] = {}
        for a, b in self.imports:
            forward.setdefault(a, set()).add(b)
            backward.setdefault(b, set()).add(a)
        return ({k: frozenset(v) for k, v in forward.items()}, {k: frozenset(v) for k, v in backward.items()})

    def imports_of(self, module: str) -> frozenset[str]:
        """Project modules that ``module`` imports (directly)."""
        return self._import_edges[0].get(module, frozenset())

    def importers_of(self, module: str) -> frozenset[str]:
        """Project modules that import ``module`` (directly)."""
        return self._import_edges[1].get(module, frozenset())

    # -- names ------------------------------------------------------------------------------------
    @cached_property
    def _exports(self) -> dict[tuple[str, str], str]:
        return {(m, n): q for m, n, q in self.exports}

    @cached_property
    def _stars(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for module, source in self.star_imports:
            out.setdefault(module, []).append(source)
        return out

    def resolve_export(self, module: str, name: str) -> str | None:
        """What ``from module import name`` (or a star import of ``module``) yields, followed through
        re-exports: ``resolve_export("helpers", "openai")`` is ``"openai"`` when helpers did
        ``import openai``; ``"helpers.ask"`` for a function defined there. None when unknown."""
        seen: set[tuple[str, str]] = set()
        current: tuple[str, str] | None = (module, name)
        result: str | None = None
        while current is not None and current not in seen:
            seen.add(current)
            qualified = self._exports.get(current)
            if qualified is None:
                qualified = next(
                    (q for source in self._stars.get(current[0], ()) if (q := self.resolve_export(source, current[1]))),
                    None,
                )
                if qualified is None:
                    return result
            result = qualified
            head, _, last = qualified.rpartition(".")
            current = (head, last) if head and (head, last) != current and self._knows(head) else None
        return result

    @cached_property
    def _module_names(self) -> frozenset[str]:
        return frozenset(name for _, name in self.modules)

    def _knows(self, module: str) -> bool:
        return module in self._module_names

    # -- responses --------------------------------------------------------------------------------
    def returns_response(self, qualname: str) -> bool:
        """Whether the project function ``pkg.mod.func`` / ``pkg.mod.Class.method`` returns a v0 response
        (directly, through a local variable or through another such function)."""
        return qualname in self.response_functions

    @cached_property
    def _params(self) -> dict[str, frozenset[str]]:
        out: dict[str, set[str]] = {}
        for function, param in self.response_parameters:
            out.setdefault(function, set()).add(param)
        return {k: frozenset(v) for k, v in out.items()}

    def response_params(self, qualname: str) -> frozenset[str]:
        """Parameters of ``qualname`` that receive a v0 response at every known call site (and the
        function has at least one call site, and is not used as a value anywhere)."""
        return self._params.get(qualname, frozenset())

    @cached_property
    def _response_modules(self) -> tuple[frozenset[str | None], frozenset[str | None]]:
        """(modules whose functions receive responses, modules whose functions return them): computed
        once, not once per file of the run."""
        return (frozenset(self._module_of_function(f) for f, _ in self.response_parameters),
                frozenset(self._module_of_function(f) for f in self.response_functions))

    def _module_of_function(self, qualname: str) -> str | None:
        parts = qualname.split(".")
        for end in range(len(parts) - 1, 0, -1):  # the longest module that the name lies in
            head = ".".join(parts[:end])
            if head in self._module_names:
                return head
        return None

    # -- configuration ----------------------------------------------------------------------------
    def config_sites(self, module: str | None = None) -> tuple[ConfigSite, ...]:
        """Configuration assignments in ``module`` (every module when None), in source order."""
        return tuple(s for s in self.config if module is None or s.module == module)

    def foreign_config(self, module: str) -> tuple[ConfigSite, ...]:
        """Configuration assigned in other modules of the project: in v0 it applied to this module's
        calls too, at whatever moment it ran."""
        return tuple(s for s in self.config if s.module != module)

    def calls_v0(self, module: str) -> tuple[bool, bool]:
        """(has sync v0 API calls, has async v0 API calls) of ``module``."""
        for name, sync, asynchronous in self.v0_calls:
            if name == module:
                return sync, asynchronous
        return False, False

    def forced_codes_for(self, path: str) -> tuple[str, ...]:
        """Rules that must run on ``path`` whatever the text pre-filter says (the fixer's hook):

        * every openai rule for a module that reaches openai through a project re-export (``from .common
          import openai``), since the pre-filter looks only for imports of ``openai`` itself;
        * the argument rule for a module that builds keyword arguments of v0 calls in another module
          (:meth:`splatted_into_v0`);
        * the response rule for a module whose functions receive responses, or that imports a module whose
          functions return them (it may read them without importing openai or naming ``choices``).
        """
        module = self.module_of(path)
        if module is None:
            return ()
        if module in self.openai_through:
            from migrator.rules.registry import RULES

            return tuple(entry.code for entry in RULES if entry.code.startswith("OAI"))
        codes = []
        if any(q.rpartition(".")[0] == module for q in self.kwargs_functions):
            codes.append("OAI401")  # the keyword arguments of v0 calls that it builds are renamed where built
        receivers, sources = self._response_modules
        imported = self.imports_of(module) | {s for m, s in self.star_imports if m == module}
        if module in receivers or sources & imported:
            codes.append("OAI501")
        return tuple(codes)

    def splatted_into_v0(self, qualname: str) -> bool:
        """Whether the result of the project function ``qualname`` is passed as ``**kwargs`` to v0 calls
        (``create(**model_kwargs("chat"))``): the keys of the dicts it returns are v0 keyword arguments."""
        return qualname in self.kwargs_functions

    def calling_modules(self) -> tuple[str, ...]:
        """Modules of the project that make v0 API calls."""
        return tuple(name for name, sync, asynchronous in self.v0_calls if sync or asynchronous)


EMPTY = ProjectView()
