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
_REEXPORTED_CALL = rf"openai\.(?:{_OAI_RESOURCES})\b"  # a literal first: the regex engine scans for it
_GPT2 = r"gpt2|GPT2"
_KEY = r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}"
# A GPT-2 family id as a whole string literal, as HF201 reads literals (raw body, no escapes).
_GPT2_LITERAL = r"""['"](?:openai-community/|distilbert/)?(?:distil)?gpt2(?:-medium|-large|-xl)?['"]"""


def _kwarg(names: str) -> str:
    """Text of a keyword argument ``name=`` (whitespace and comments may stand before the ``=``)."""
    return rf"\b(?:{names})\s*(?:#[^\n]*\s*)*="


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
    default: bool = True
    needs_target: bool = False  # the fix exists only when a --target is chosen

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
    RuleEntry("OAI101", "legacy-resource-call", f"{_O}.resource_call:LegacyResourceCall", SAFE,
              ("openai",), rf"\b(?:{_OAI_RESOURCES})\b", pattern=_REEXPORTED_CALL, needle="openai."),
    RuleEntry("OAI102", "removed-api", f"{_O}.removed_api:RemovedApi", REPORT,
              ("openai",), rf"\b(?:{_OAI_RESOURCES})\b"),
    RuleEntry("OAI103", "legacy-resource-as-value", f"{_O}.resource_value:LegacyResourceValue", SAFE,
              ("openai",), rf"\b(?:{_OAI_RESOURCES})\b"),
    RuleEntry("OAI104", "legacy-module", f"{_O}.legacy_module:LegacyModule", REPORT,
              ("openai",), r"\b(?:embeddings_utils|openai_object|api_resources|datalib|wandb_logger)\b"),
    RuleEntry("OAI105", "embeddings-utils-helper", f"{_O}.embeddings_utils:EmbeddingsUtilsHelper", SAFE,
              ("openai",), r"\bembeddings_utils\b"),
    RuleEntry("OAI106", "openai-object", f"{_O}.openai_object:LegacyOpenAIObject", SAFE,
              ("openai",), r"\bopenai_object\b"),
    RuleEntry("OAI201", "legacy-config-global", f"{_O}.config_global:LegacyConfigGlobal", SAFE,
              ("openai",), r"\b(?:api_key|api_base|api_type|api_version|organization)\b"),
    RuleEntry("OAI202", "removed-config-global", f"{_O}.removed_config:RemovedConfigGlobal", REPORT,
              ("openai",), rf"\b(?:{_OAI_CONFIG})\b"),
    RuleEntry("OAI301", "legacy-exception", f"{_O}.exception_ref:LegacyException", SAFE,
              ("openai",), rf"\b(?:{_OAI_ERRORS})\b", pattern=r"openai\.error\.", needle="openai.error."),
    RuleEntry("OAI302", "legacy-exception-import", f"{_O}.exception_import:LegacyExceptionImport", SAFE,
              ("openai",), r"\berror\b"),
    RuleEntry("OAI303", "legacy-exception-attribute", f"{_O}.exception_attr:LegacyExceptionAttribute", SAFE,
              ("openai",), r"\b(?:http_status|user_message|json_body|http_body|headers)\b",
              pattern=r"\.(?:http_status|user_message|json_body|http_body)\b",
              needle="http_status|user_message|json_body|http_body"),
    RuleEntry("OAI401", "legacy-call-argument", f"{_O}.call_argument:LegacyCallArgument", SAFE,
              ("openai",), rf"\b(?:{_OAI_RESOURCES})\b", pattern=_REEXPORTED_CALL, needle="openai."),
    RuleEntry("OAI501", "legacy-response-access", f"{_O}.response_access:LegacyResponseAccess", SAFE,
              ("openai",), rf"\b(?:{_OAI_RESOURCES})\b",
              # A module that only receives responses from another one (no openai import) reads them like
              # this (`resp["choices"]`); the needle keeps the pre-filter at memory speed on other trees.
              # A module reaching openai through a project module (`from helpers import *`) calls it like this.
              pattern=r"""(?:\[\s*|\.get\(\s*)['"]choices['"]|""" + _REEXPORTED_CALL, needle="choices|openai."),
    RuleEntry("OAI601", "legacy-mock-target", f"{_O}.mock_target:LegacyMockTarget", SAFE,
              ("openai",), rf"\b(?:{_OAI_RESOURCES}|{_OAI_ERRORS}|{_OAI_CONFIG})\b",
              pattern=r"""['"]openai\.(?:""" + _OAI_RESOURCES + "|error|" + _OAI_CONFIG + r")\b", needle="openai."),
    RuleEntry("OAI602", "mock-returns-dict", f"{_O}.mock_return:LegacyMockReturnValue", SAFE,
              ("openai",), r"return_value|side_effect",
              pattern=r"""['"]openai\.[A-Za-z_.]+['"][\s\S]*(?:return_value|side_effect)""",
              needle="return_value|side_effect"),
    RuleEntry("OAI701", "model-id", f"{_O}.model_id:LegacyModelId", SAFE,
              ("openai",), r"\b(?:model|engine|deployment_id)\b"),
    RuleEntry("HF201", "gpt2-model-id", f"{_H}.gpt2_model_id:Gpt2ModelId", SAFE,
              ("transformers", "pytorch_transformers"), _GPT2_LITERAL, needs_target=True),
    RuleEntry("HF202", "gpt2-class", f"{_H}.gpt2_class:Gpt2Class", SAFE,
              ("transformers", "pytorch_transformers"), r"GPT2", needs_target=True),
    RuleEntry("HF203", "torch-dtype-argument", f"{_H}.torch_dtype:TorchDtypeArgument", SAFE,
              ("transformers", "pytorch_transformers"), _kwarg("torch_dtype")),
    RuleEntry("HF204", "use-auth-token-argument", f"{_H}.use_auth_token:UseAuthTokenArgument", SAFE,
              ("transformers", "pytorch_transformers"), _kwarg("use_auth_token")),
    RuleEntry("HF205", "load-in-bits-argument", f"{_H}.load_in_bits:LoadInBitsArgument", UNSAFE,
              ("transformers", "pytorch_transformers"), _kwarg("load_in_8bit|load_in_4bit")),
    RuleEntry("HF206", "encode-plus", f"{_H}.encode_plus:EncodePlus", SAFE,
              ("transformers", "pytorch_transformers"), r"\.\s*encode_plus\b"),
    RuleEntry("HF207", "legacy-transformers-module", f"{_H}.legacy_module:LegacyTransformersModule", SAFE,
              ("transformers", "pytorch_transformers", "pytorch_pretrained_bert"),
              r"pytorch_transformers|pytorch_pretrained_bert|modeling_gpt2|tokenization_gpt2|modeling_tf_gpt2"),
    RuleEntry("HF208", "instruct-model-input", f"{_H}.instruct_input:InstructModelInput", UNSAFE,
              ("transformers", "pytorch_transformers"), r"return_tensors|max_length|min_length", needs_target=True),
    RuleEntry("HF209", "decoded-prompt-echo", f"{_H}.prompt_echo:DecodedPromptEcho", UNSAFE,
              ("transformers", "pytorch_transformers"), r"\bdecode|\bbatch_decode", needs_target=True),
    RuleEntry("HF210", "chat-pipeline-input", f"{_H}.chat_pipeline:ChatPipelineInput", UNSAFE,
              ("transformers", "pytorch_transformers"), r"\bpipeline\b", needs_target=True),
    RuleEntry("HF211", "string-chat-history", f"{_H}.chat_history:StringChatHistory", UNSAFE,
              ("transformers", "pytorch_transformers"), r"\+=", needs_target=True),
    RuleEntry("HF212", "gpt2-internals", f"{_H}.gpt2_internals:Gpt2Internals", REPORT,
              ("transformers", "pytorch_transformers"),
              r"\b(?:transformer|c_attn|c_proj|c_fc|ln_[12f]|n_positions|n_ctx|n_layer|n_head|n_embd|past|past_key_values"
              r"|last_hidden_state)\b", needs_target=True),
    RuleEntry("SEC001", "hardcoded-api-key", f"{_S}.hardcoded_key:HardcodedApiKey", REPORT,
              ("openai",), r"\bapi_key\b", pattern=_KEY, needle="sk-"),
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
