"""The one table of rules: code, name, class, default, fix safety and pre-filter triggers.

It drives ``--select``/``--ignore``, ``migrate rules``, the generated docs and the run order. It is plain
data so that selecting and pre-filtering never import libcst; rule classes load on first use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migrator.rules.types import FixSafety

if TYPE_CHECKING:
    from migrator.rules.base import Rule

SAFE, UNSAFE, REPORT = FixSafety.SAFE, FixSafety.UNSAFE, FixSafety.REPORT

# Member names of the legacy openai module that findings of the openai rules are made of.
_OAI_RESOURCES = (
    "ChatCompletion|Completion|Embedding|Image|Audio|Moderation|File|FineTuningJob|Model|"
    "Edit|FineTune|Engine|Customer|Deployment|ErrorObject"
)
_OAI_CONFIG = (
    "api_key|api_key_path|api_base|api_type|api_version|organization|proxy|requestssession|aiosession|"
    "debug|log|verify_ssl_certs|app_info|ca_bundle_path|enable_telemetry"
)
_OAI_ERRORS = r"error|InvalidRequestError|ServiceUnavailableError|TryAgain|PermissionError|Timeout"
# `openai.ChatCompletion.create(...)` in a module that gets `openai` from a project module (`from .common import
# openai`, `from helpers import *`): no import line of openai to see, so the call text alone makes it a candidate.
# Members of the v0 openai module that the legacy-usage rules look for (``openai.<name>``), and its
# submodules that only v0 had: an import of openai that binds none of them (``from openai import OpenAI``,
# ``from openai.types import Completion``, ``import openai.types as t``) gives those rules nothing to find.
# A test keeps them in step with the rules' catalog.
LEGACY_OPENAI_MODULES = frozenset({"error", "embeddings_utils", "openai_object", "api_resources", "datalib", "wandb_logger"})
LEGACY_OPENAI_NAMES = frozenset(
    {*_OAI_RESOURCES.split("|"), *_OAI_CONFIG.split("|"), *_OAI_ERRORS.split("|"), *LEGACY_OPENAI_MODULES, "OpenAIObject"}
)
_REEXPORTED_CALL = rf"openai\.(?:{_OAI_RESOURCES})\b"  # a literal first: the regex engine scans for it
_GPT2 = r"gpt2|GPT2"
_KEY = r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}"
# A GPT-2 family id as a whole string literal, as HF201 reads literals (raw body, no escapes).
_GPT2_LITERAL = r"""['"](?:openai-community/|distilbert/)?(?:distil)?gpt2(?:-medium|-large|-xl)?['"]"""
# A GPT-2 class as HF202 resolves it: an attribute (`transformers.GPT2Model`), a name in an import list
# (`from transformers import (AutoModel,  # x\n GPT2Model)`), or any name where a star import is. A class
# named in a string or defined locally (`class GPT2Converter`) resolves to nothing.
_GPT2_CLASS_REF = (
    r"\.[\s\\]*\w*GPT2|import(?:[\w\s,\\(]|#[^\n]*)*?GPT2"
    r"|import[\s\\(]*\*[\s\S]*GPT2|GPT2[\s\S]*import[\s\\(]*\*"
)

# Without a target OAI701 reports only a retired id, read as a whole string literal's raw body (a
# constant the model argument names holds it too); kept in step with model_id.RETIRED by a test.
_RETIRED_IDS = (
    "text-davinci-00[123]|text-curie-001|text-babbage-001|text-ada-001|davinci|curie|babbage|ada"
    "|code-davinci-00[12]|code-cushman-00[12]|gpt-3\\.5-turbo-(?:0301|0613|16k-0613)|gpt-4-(?:0314|32k(?:-0314|-0613)?|vision-preview)"
)
_RETIRED_LITERAL = rf"""['"](?:{_RETIRED_IDS})['"]"""


def _kwarg(names: str) -> str:
    """Text of a keyword argument ``name=``: it follows the call's ``(`` or a ``,`` and comes before an ``=``
    that is not ``==`` (whitespace, backslash continuations and comments may stand between). An assignment
    ``torch_dtype = ...`` or a longer name (``str_to_torch_dtype``) is no keyword argument."""
    return rf"[(,](?:[\s\\]|#[^\n]*)*(?:{names})(?:[\s\\]|#[^\n]*)*=(?!=)"


@dataclass(frozen=True)
class RuleEntry:
    """A row of the registry. ``requires``/``tokens``/``pattern``: see :mod:`migrator.engine.prefilter`."""

    code: str
    name: str
    target: str  # "module:Class"
    fix: FixSafety
    requires: tuple[str, ...] = ()
    tokens: str = ""
    pattern: str = ""
    needle: str = ""  # literals (``a|b``), one of which every ``pattern`` match contains: checked first
    token_needle: str = ""  # the same for ``tokens`` (a regex that does not start with a literal)
    default: bool = True
    needs_target: bool = False  # the fix exists only when a --target is chosen
    # Finds nothing at all in a run without --target (its findings are about the target model), so the
    # pre-filter drops it there; the rule's must-flag examples all carry a target (a test checks).
    target_only: bool = False
    # ``tokens`` of a run without --target, where the rule reports less (OAI701: retired ids only).
    untargeted_tokens: str = ""
    # Finds only what an import of openai binds of the v0 API (``LEGACY_OPENAI_NAMES``): a module whose
    # openai imports are all of the current SDK has nothing for it (the ``requires`` path; a ``pattern``
    # still makes the file a candidate).
    legacy_openai: bool = False
    # Attribute names (``a|b``) that count only when read on a name an ``except ... as NAME`` clause or an
    # ``isinstance(NAME, ...)`` test binds (OAI303's exception attributes): checked on the code exactly.
    caught_attributes: str = ""
    # Names (``a|b``) that count only when the code gives them a non-empty string literal: a keyword argument
    # ``name="..."`` or an assignment ``x.name = "..."`` (SEC001's ``api_key``; a ``pattern`` still
    # makes the file a candidate).
    string_arguments: str = ""
    # String keys (``a|b``) that make a file a candidate without any import when code reads a function
    # parameter with them (``resp["choices"]``: OAI501's values of unknown origin). The text stage looks
    # for ``["key"]`` or ``.get("key")``; the exact one for a subscript of a parameter.
    parameter_keys: str = ""

    @property
    def family(self) -> str:
        return self.target.split(".")[2]

    def load(self) -> type[Rule]:
        module, _, cls = self.target.partition(":")
        rule = getattr(importlib.import_module(module), cls)
        rule.entry = self
        return rule


_O = "migrator.rules.openai_v0"
_H = "migrator.rules.transformers_v4"
_S = "migrator.rules.security"

RULES: tuple[RuleEntry, ...] = (
    RuleEntry(
        code="OAI101", name="legacy-resource-call", fix=SAFE,
        target=f"{_O}.resource_call:LegacyResourceCall",
        requires=("openai",), legacy_openai=True, tokens=rf"\b(?:{_OAI_RESOURCES})\b", pattern=_REEXPORTED_CALL, needle="openai.",
    ),
    RuleEntry(
        code="OAI102", name="removed-api", fix=REPORT,
        target=f"{_O}.removed_api:RemovedApi",
        requires=("openai",), legacy_openai=True, tokens=rf"\b(?:{_OAI_RESOURCES})\b",
    ),
    RuleEntry(
        code="OAI103", name="legacy-resource-as-value", fix=SAFE,
        target=f"{_O}.resource_value:LegacyResourceValue",
        requires=("openai",), legacy_openai=True, tokens=rf"\b(?:{_OAI_RESOURCES})\b",
    ),
    RuleEntry(
        code="OAI104", name="legacy-module", fix=REPORT,
        target=f"{_O}.legacy_module:LegacyModule",
        requires=("openai",), legacy_openai=True,
        tokens=r"\b(?:embeddings_utils|openai_object|api_resources|datalib|wandb_logger)\b",
    ),
    RuleEntry(
        code="OAI105", name="embeddings-utils-helper", fix=SAFE,
        target=f"{_O}.embeddings_utils:EmbeddingsUtilsHelper",
        requires=("openai",), legacy_openai=True, tokens=r"\bembeddings_utils\b",
    ),
    RuleEntry(
        code="OAI106", name="openai-object", fix=SAFE,
        target=f"{_O}.openai_object:LegacyOpenAIObject",
        requires=("openai",), legacy_openai=True, tokens=r"\bopenai_object\b",
    ),
    RuleEntry(
        code="OAI201", name="legacy-config-global", fix=SAFE,
        target=f"{_O}.config_global:LegacyConfigGlobal",
        requires=("openai",), legacy_openai=True, tokens=r"\b(?:api_key|api_base|api_type|api_version|organization)\b",
    ),
    RuleEntry(
        code="OAI202", name="removed-config-global", fix=SAFE,
        target=f"{_O}.removed_config:RemovedConfigGlobal",
        requires=("openai",), legacy_openai=True, tokens=rf"\b(?:{_OAI_CONFIG})\b",
    ),
    RuleEntry(
        code="OAI301", name="legacy-exception", fix=SAFE,
        target=f"{_O}.exception_ref:LegacyException",
        requires=("openai",), legacy_openai=True, tokens=rf"\b(?:{_OAI_ERRORS})\b", pattern=r"openai\.error\.",
        needle="openai.error.",
    ),
    RuleEntry(
        code="OAI302", name="legacy-exception-import", fix=SAFE,
        target=f"{_O}.exception_import:LegacyExceptionImport",
        requires=("openai",), legacy_openai=True, tokens=r"\berror\b",
    ),
    RuleEntry(
        code="OAI303", name="legacy-exception-attribute", fix=SAFE,
        target=f"{_O}.exception_attr:LegacyExceptionAttribute",
        requires=("openai",), tokens=r"\b(?:http_status|user_message|json_body|http_body|headers)\b",
        pattern=r"\.(?:http_status|user_message|json_body|http_body)\b",
        needle="http_status|user_message|json_body|http_body",
        caught_attributes="http_status|user_message|json_body|http_body|headers",
    ),
    RuleEntry(
        code="OAI401", name="legacy-call-argument", fix=SAFE,
        target=f"{_O}.call_argument:LegacyCallArgument",
        requires=("openai",), legacy_openai=True, tokens=rf"\b(?:{_OAI_RESOURCES})\b", pattern=_REEXPORTED_CALL, needle="openai.",
    ),
    # A module that only receives responses from another one (no openai import) reads them like this
    # (`resp["choices"]`, `parameter_keys`); one reaching openai through a project module (`from helpers
    # import *`) calls it like this (the pattern).
    RuleEntry(
        code="OAI501", name="legacy-response-access", fix=SAFE,
        target=f"{_O}.response_access:LegacyResponseAccess",
        requires=("openai",), legacy_openai=True, tokens=rf"\b(?:{_OAI_RESOURCES})\b",
        pattern=_REEXPORTED_CALL, needle="openai.", parameter_keys="choices",
    ),
    RuleEntry(
        code="OAI601", name="legacy-mock-target", fix=SAFE,
        target=f"{_O}.mock_target:LegacyMockTarget",
        requires=("openai",), legacy_openai=True, tokens=rf"\b(?:{_OAI_RESOURCES}|{_OAI_ERRORS}|{_OAI_CONFIG})\b",
        pattern=r"""['"]openai\.(?:""" + _OAI_RESOURCES + "|error|" + _OAI_CONFIG + r")\b", needle="openai.",
    ),
    RuleEntry(
        code="OAI602", name="mock-returns-dict", fix=SAFE,
        target=f"{_O}.mock_return:LegacyMockReturnValue",
        requires=("openai",), tokens=r"return_value|side_effect",
        pattern=r"""['"]openai\.[A-Za-z_.]+['"][\s\S]*(?:return_value|side_effect)""",
        needle="openai.",
    ),
    RuleEntry(
        code="OAI701", name="model-id", fix=SAFE,
        target=f"{_O}.model_id:LegacyModelId",
        requires=("openai",), tokens=r"\b(?:model|engine|deployment_id)\b", untargeted_tokens=_RETIRED_LITERAL,
    ),
    RuleEntry(
        code="HF201", name="gpt2-model-id", fix=SAFE,
        target=f"{_H}.gpt2_model_id:Gpt2ModelId",
        requires=("transformers", "pytorch_transformers"), tokens=_GPT2_LITERAL, token_needle="gpt2", needs_target=True,
    ),
    RuleEntry(
        code="HF202", name="gpt2-class", fix=SAFE,
        target=f"{_H}.gpt2_class:Gpt2Class",
        requires=("transformers", "pytorch_transformers"), tokens=_GPT2_CLASS_REF, token_needle="GPT2", needs_target=True,
    ),
    RuleEntry(
        code="HF203", name="torch-dtype-argument", fix=SAFE,
        target=f"{_H}.torch_dtype:TorchDtypeArgument",
        requires=("transformers", "pytorch_transformers"), tokens=_kwarg("torch_dtype"),
        token_needle="torch_dtype",
    ),
    RuleEntry(
        code="HF204", name="use-auth-token-argument", fix=SAFE,
        target=f"{_H}.use_auth_token:UseAuthTokenArgument",
        requires=("transformers", "pytorch_transformers"), tokens=_kwarg("use_auth_token"),
        token_needle="use_auth_token",
    ),
    RuleEntry(
        code="HF205", name="load-in-bits-argument", fix=UNSAFE,
        target=f"{_H}.load_in_bits:LoadInBitsArgument",
        requires=("transformers", "pytorch_transformers"), tokens=_kwarg("load_in_8bit|load_in_4bit"),
        token_needle="load_in_8bit|load_in_4bit",
    ),
    RuleEntry(
        code="HF206", name="encode-plus", fix=SAFE,
        target=f"{_H}.encode_plus:EncodePlus",
        requires=("transformers", "pytorch_transformers"), tokens=r"\.\s*encode_plus\b",
    ),
    RuleEntry(
        code="HF207", name="legacy-transformers-module", fix=SAFE,
        target=f"{_H}.legacy_module:LegacyTransformersModule",
        requires=("transformers", "pytorch_transformers", "pytorch_pretrained_bert"),
        tokens=r"pytorch_transformers|pytorch_pretrained_bert|modeling_gpt2|tokenization_gpt2|modeling_tf_gpt2",
    ),
    RuleEntry(
        code="HF208", name="instruct-model-input", fix=UNSAFE,
        target=f"{_H}.instruct_input:InstructModelInput",
        requires=("transformers", "pytorch_transformers"), tokens=r"return_tensors|max_length|min_length",
        needs_target=True, target_only=True,
    ),
    RuleEntry(
        code="HF209", name="decoded-prompt-echo", fix=UNSAFE,
        target=f"{_H}.prompt_echo:DecodedPromptEcho",
        requires=("transformers", "pytorch_transformers"), tokens=r"\bdecode|\bbatch_decode",
        needs_target=True, target_only=True,
    ),
    RuleEntry(
        code="HF210", name="chat-pipeline-input", fix=UNSAFE,
        target=f"{_H}.chat_pipeline:ChatPipelineInput",
        requires=("transformers", "pytorch_transformers"), tokens=r"\bpipeline\b",
        needs_target=True, target_only=True,
    ),
    RuleEntry(
        code="HF211", name="string-chat-history", fix=UNSAFE,
        target=f"{_H}.chat_history:StringChatHistory",
        requires=("transformers", "pytorch_transformers"), tokens=r"\+=",
        needs_target=True, target_only=True,
    ),
    RuleEntry(
        code="HF212", name="gpt2-internals", fix=REPORT,
        target=f"{_H}.gpt2_internals:Gpt2Internals",
        requires=("transformers", "pytorch_transformers"),
        tokens=r"\b(?:transformer|c_attn|c_proj|c_fc|ln_[12f]|n_positions|n_ctx|n_layer|n_head|n_embd|past|past_key_values"
              r"|last_hidden_state)\b",
        needs_target=True, target_only=True,
    ),
    RuleEntry(
        code="SEC001", name="hardcoded-api-key", fix=REPORT,
        target=f"{_S}.hardcoded_key:HardcodedApiKey",
        requires=("openai",), tokens=r"\bapi_key\b", pattern=_KEY, needle="sk-",
        string_arguments="api_key",
    ),
)

BY_CODE = {entry.code: entry for entry in RULES}


class SelectionError(ValueError):
    """An unknown code or prefix in --select/--ignore."""


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def select_rules(
    select: tuple[str, ...] | list[str] = (),
    ignore: tuple[str, ...] | list[str] = (),
    extend_select: tuple[str, ...] | list[str] = (),
) -> list[RuleEntry]:
    """Enabled entries, in registry order. Selectors are codes or prefixes (``OAI``, ``OAI3``, ``ALL``)."""
    for selector in (*select, *ignore, *extend_select):
        if not any(_matches(selector, e.code) for e in RULES):
            valid = ", ".join(e.code for e in RULES)
            raise SelectionError(f"unknown rule selector {selector!r}; valid codes: {valid}")
    if select:
        chosen = [e for e in RULES if any(_matches(s, e.code) for s in select)]
    else:
        chosen = [e for e in RULES if e.default]
    chosen += [e for e in RULES if e not in chosen and any(_matches(s, e.code) for s in extend_select)]
    chosen = [e for e in chosen if not any(_matches(s, e.code) for s in ignore)]
    order = {e.code: i for i, e in enumerate(RULES)}
    return sorted(chosen, key=lambda e: order[e.code])
