"""Rules that move GPT-2 code to an instruction model (HF208-HF212), the resolve_model shim's chat
template for GPT-2, and the registry of hf models."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT
from rewrite_cases import PAIRS

from migrator.engine.fixer import FixOptions, fix_text
from migrator.rules.registry import RULES
from migrator.targets import PROVIDERS, model_info

ALL = [e.code for e in RULES]
# The rules that move GPT-2 code to an instruction model: silent without an hf: target (their must-flag
# examples carry one and run in tests/test_rule_examples.py).
TARGET_ONLY = [e for e in RULES if e.code in ("HF208", "HF209", "HF210", "HF211", "HF212")]


@pytest.mark.parametrize("target", [None, "openai:gpt-4o", "anthropic"])
def test_instruction_model_rules_need_an_hf_target(target):
    source = (FIXTURES_REWRITES / "hf_generate_chat_template.before.py").read_text().split("\n", 1)[1]
    fixed, applied = fix_text("x.py", source, ALL, FixOptions(unsafe=True, target=target))
    assert not {f.code for f in applied} & {e.code for e in TARGET_ONLY}
    assert "apply_chat_template" not in fixed


def test_every_pattern_has_a_pair():
    names = {p.name.replace(".before.py", "") for p in PAIRS}
    for pattern in ("hf_generate_chat_template", "hf_encode_system_prompt", "hf_few_shot_length_strip",
                    "hf_batch_padding", "hf_encode_plus_chain", "hf_pipeline_chat", "hf_chat_history",
                    "hf_chat_history_report", "hf_gpt2_internals_report", "hf_raw_prompt_report", "hf_safe_only"):
        assert pattern in names


def test_unsafe_fixes_wait_for_the_flag():
    text = (FIXTURES_REWRITES / "hf_safe_only.before.py").read_text()
    fixed, applied = fix_text("x.py", text, ALL, FixOptions(target="hf:microsoft/Phi-3.5-mini-instruct"))
    assert {f.code for f in applied} == {"HF201"}
    assert 'tokenizer(prompt, return_tensors="pt")' in fixed and "TODO" not in fixed
    _, applied = fix_text("x.py", text, ALL, FixOptions(unsafe=True, target="hf:microsoft/Phi-3.5-mini-instruct"))
    assert {"HF208", "HF209"} <= {f.code for f in applied}


def test_gpt2_internals_name_the_target_architecture():
    source = "from transformers import AutoModelForCausalLM\nfor block in model.transformer.h:\n    block.attn.c_attn.weight\n"
    llama, _ = fix_text("x.py", source, ALL, FixOptions(target="hf:mistralai/Mistral-7B-Instruct-v0.3"))
    phi, _ = fix_text("x.py", source, ALL, FixOptions(target="hf:microsoft/Phi-3.5-mini-instruct"))
    assert "self_attn.q_proj, k_proj and v_proj" in llama and "model.model.layers" in llama
    assert "self_attn.qkv_proj" in phi
    assert "block.attn.c_attn.weight" in llama and "block.attn.c_attn.weight" in phi  # never rewritten


FIXTURES_REWRITES = ROOT / "fixtures" / "rewrites"


# -- resolve_model under MIGRATE_BACKEND=local -------------------------------------------------------

@pytest.fixture
def local_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MIGRATE_BACKEND", "local")
    monkeypatch.setenv("MIGRATE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_resolve_model_gives_gpt2_a_chat_template(local_env, monkeypatch, tiny_gpt2):
    from transformers import AutoTokenizer

    from migrator.runtime import resolve_model
    from migrator.runtime.backend import FALLBACK_CHAT_TEMPLATE

    monkeypatch.setenv("MIGRATE_LOCAL_MODEL", str(tiny_gpt2))
    first = resolve_model("meta-llama/Llama-3.1-8B-Instruct")
    assert first != str(tiny_gpt2) and first.startswith(str(local_env))
    assert resolve_model("microsoft/Phi-3.5-mini-instruct") == first  # made once, then reused
    tokenizer = AutoTokenizer.from_pretrained(first)
    assert tokenizer.chat_template == FALLBACK_CHAT_TEMPLATE
    assert AutoTokenizer.from_pretrained(str(tiny_gpt2)).chat_template is None  # the source is untouched
    text = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False)
    assert text == "user: hi\nassistant:"


def test_resolve_model_keeps_chat_models_and_unknown_models(local_env, monkeypatch, tmp_path, tiny_llama):
    from migrator.runtime import resolve_model

    monkeypatch.setenv("MIGRATE_LOCAL_MODEL", str(tiny_llama))  # has a chat template
    assert resolve_model("x") == str(tiny_llama)
    monkeypatch.setenv("MIGRATE_LOCAL_MODEL", str(tmp_path / "missing"))
    assert resolve_model("x") == str(tmp_path / "missing")  # from_pretrained will say what is wrong
    monkeypatch.delenv("MIGRATE_BACKEND")
    assert resolve_model("meta-llama/Llama-3.1-8B-Instruct") == "meta-llama/Llama-3.1-8B-Instruct"
    assert not local_env.exists()


# -- the registry of hf models ------------------------------------------------------------------------

def test_hf_models_are_data_with_the_facts_targets_shows(run_cli):
    models = PROVIDERS["hf"].models
    assert {m.id for m in models} >= {"meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct",
                                      "mistralai/Mistral-7B-Instruct-v0.3", "microsoft/Phi-3.5-mini-instruct"}
    assert model_info("microsoft/Phi-3.5-mini-instruct").architecture == "phi3"
    assert model_info("gpt2") is None
    listing = run_cli("targets", check=0).stdout
    for model in models:
        line = " ".join(next(line for line in listing.splitlines() if line.split()[0] == model.id).split())
        assert f"context {model.context_length:,}" in line and f"params {model.parameters}" in line
        assert ("chat template yes" if model.chat_template else "chat template no") in line
        assert (f"gated: {model.gate}" if model.gate else "open") in line


def test_readme_lists_the_tutorial_models_with_exact_ids():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Targets", 1)[1].split("\n## ", 1)[0]
    for model in PROVIDERS["hf"].models:
        if "Llama-3.2" not in model.id:
            assert f"`hf:{model.id}`" in section
    for api in ("openai:gpt-4o", "anthropic:claude-sonnet-4-5", "gemini:gemini-2.5-flash", "mistral:mistral-large-latest"):
        assert f"`{api}`" in section
    for provider_model in re.findall(r"`(\w+):([\w./-]+)`", section):
        assert provider_model[0] in PROVIDERS, provider_model
    json.dumps(section)  # plain text
