"""Which client a module's v0 calls move to, and why: the whole-program client plan.

The rule: the migrated program uses the same configuration, taken at the same moment, as the original.
v0 read ``openai.api_key``/``api_base``/``organization``/``api_type``/``api_version`` at every call, so:

- configuration only at the top of the module itself (and nothing else in the program that shares it)
  -> a client built once, right after it, with the values as constructor arguments;
- configuration assigned at run time (in a function, a method, a branch), in another module of the
  program, or shared with other calling modules -> the current SDK's module-level client
  (``openai.chat.completions.create``), which reads ``openai.api_key``, ``openai.base_url`` and
  ``openai.organization`` at every request; the assignments stay, with today's names. Async calls, which
  have no module-level client, go through a small lazily built ``AsyncOpenAI`` that is rebuilt whenever
  that configuration changed.

:func:`decide` is pure (plain data in, plain data out) so that ``migrate apply`` can print the plan of every
module from the :class:`ProjectView` alone, without re-running the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from migrator.rules.project import TOP, ConfigSite, ProjectView

CLIENT = "client"
MODULE = "module"

# Environment variables v0 read for a setting the program may never assign, and what the current SDK reads
# instead. (OPENAI_API_KEY, OPENAI_API_TYPE and OPENAI_API_VERSION keep their names: the module-level client
# and AzureOpenAI read them; OPENAI_API_KEY_PATH is reported where openai.api_key_path is used, OAI202.)
OLD_ENVIRONMENT = {
    "api_base": ("OPENAI_API_BASE", "OPENAI_BASE_URL (AZURE_OPENAI_ENDPOINT on Azure)"),
    "organization": (
        "OPENAI_ORGANIZATION",
        "OPENAI_ORG_ID (client objects; the module-level client reads only openai.organization)",
    ),
}


def environment_lines(view: ProjectView, requested_style: str = CLIENT, provider: str | None = None) -> list[str]:
    """Old environment variables the migrated program no longer reads: v0 took the setting from them
    when the program did not assign it, the current SDK reads other names. ``apply`` lists them with what
    needs a human: whether they are set is a fact of the deployment, not of the code."""
    if not view.calling_modules():
        return []
    plans = decisions(view, requested_style, provider)
    if provider is not None and all(decision.style == CLIENT for _, decision in plans):
        return []  # every client is the target provider's, configured by its own variables
    assigned = {s.name for s in view.config}
    lines = [
        f"{old} is no longer read (the program never sets openai.{name}, so v0 took it from there); "
        f"the current SDK reads {new}: rename it where the program runs"
        for name, (old, new) in OLD_ENVIRONMENT.items() if name not in assigned
    ]
    if "api_type" not in assigned and provider is None:
        plain = [path for path, decision in plans if decision.style == CLIENT]
        if plain:
            lines.append(
                f"OPENAI_API_TYPE is no longer read by the client objects of {', '.join(plain)} (the program never "
                "sets openai.api_type, so v0 took it from there): they are OpenAI; where it is \"azure\" use "
                "--client-style module (the module-level client reads it)"
            )
    return lines


@dataclass(frozen=True)
class Decision:
    """A module's client plan: ``style`` is CLIENT (a client object) or MODULE (the SDK's module client)."""

    style: str
    reason: str


def _where(site: ConfigSite) -> str:
    if site.scope:
        return f"in {site.scope.rsplit('.', 2)[-2] + '.' if site.where == 'method' else ''}{site.scope.rsplit('.', 1)[-1]}()"
    return "under a branch" if site.where != TOP else "at the top"


def connected(view: ProjectView, a: str, b: str) -> bool:
    """Whether modules ``a`` and ``b`` are linked by imports (either way, through any modules)."""
    if a == b:
        return True
    links: dict[str, set[str]] = {}
    for x, y in view.imports:
        links.setdefault(x, set()).add(y)
        links.setdefault(y, set()).add(x)
    seen, todo = {a}, [a]
    while todo:
        for nxt in links.get(todo.pop(), ()):
            if nxt == b:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def decide(
    view: ProjectView,
    module: str | None,
    own: Sequence[ConfigSite],
    requested_style: str = CLIENT,
    provider: str | None = None,
    dual_sdk: bool = False,
    local_import: bool = False,
) -> Decision:
    """The plan of ``module`` (None: unknown to the view) whose own configuration sites are ``own``;
    ``dual_sdk``: the module guards code for both SDK generations; ``local_import``: it imports openai only
    inside functions and makes no async calls (a client object would need a top-level import)."""
    if dual_sdk:
        return Decision(MODULE, "it supports both SDK generations: the legacy branch of its guard is left as it "
                                "is, the configuration stays on the openai module")
    if local_import and requested_style != MODULE and provider is None:
        return Decision(MODULE, "openai is imported only inside functions: the import stays local and the calls "
                                "use the module-level client")
    if requested_style == MODULE:
        return Decision(MODULE, "--client-style module: the SDK's module-level client reads openai.* at each request")
    if provider is not None:
        return Decision(CLIENT, f"--target {provider}: the provider's client replaces the v0 configuration")
    dynamic = [s for s in own if s.where != TOP]
    if dynamic:
        site = dynamic[0]
        return Decision(MODULE, f"`openai.{site.name}` is assigned at run time ({_where(site)}, line {site.line}): "
                                "the module-level client reads it at each request, as v0 did")
    computed = [s for s in own if s.name == "api_type" and s.value is None]
    if computed:
        return Decision(MODULE, f"`openai.api_type` is computed (line {computed[0].line}): the module-level client "
                                "chooses OpenAI or Azure from it when first used")
    foreign = [s for s in view.foreign_config(module) if connected(view, module, s.module)] if module else []
    if foreign:
        site = foreign[0]
        return Decision(MODULE, f"`openai.{site.name}` is assigned in module {site.module} ({_where(site)}, line "
                                f"{site.line}): the module-level client reads it at each request, as v0 did")
    if own and module:
        sharing = [m for m in view.calling_modules() if m != module and connected(view, module, m)]
        if sharing:
            return Decision(MODULE, f"its configuration is also used by {', '.join(sharing)}: the module-level "
                                    "client keeps one configuration for all of them, as v0 did")
    unseen = "" if view.complete else " (single-file run: configuration in other modules not seen)"
    if own:
        return Decision(CLIENT, f"configuration only at the top of the module: constructor arguments{unseen}")
    return Decision(CLIENT, f"no configuration in the program: the client reads OPENAI_API_KEY{unseen}")


def decisions(view: ProjectView, requested_style: str = CLIENT,
              provider: str | None = None) -> list[tuple[str, Decision]]:
    """The plan of every module that calls the v0 API (or guards both SDKs), as ``(path, decision)``."""
    paths = {module: path for path, module in view.modules}
    return [
        (paths.get(module, module),
         decide(view, module, view.config_sites(module), requested_style, provider, module in view.dual_sdk,
                module in view.local_openai and not view.calls_v0(module)[1]))
        for module in sorted({*view.calling_modules(), *view.dual_sdk})
    ]


def plan_lines(view: ProjectView, requested_style: str = CLIENT, provider: str | None = None) -> list[str]:
    """One line per module that calls the v0 API: ``path: plan: reason``, then what the view could not see."""
    lines = []
    for path, decision in decisions(view, requested_style, provider):
        what = "module-level client" if decision.style == MODULE else "client object"
        lines.append(f"{path}: {what}: {decision.reason}")
    lines.extend(f"not seen: {note}" for note in view.unseen)
    return lines
