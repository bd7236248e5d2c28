"""GPT-2 programs migrated to instruction models, then run: on a tiny Llama-shaped chat model (the
target's shape: Llama 3 template and special tokens) and, under MIGRATE_BACKEND=local, on the tiny GPT-2
(which gets the runtime's fallback chat template through resolve_model). Both runs must give the
assistant's text only: no prompt echo, no template text."""

from __future__ import annotations

import json
import re
import runpy
import shutil

import pytest
from conftest import FIXTURES

from migrator.engine.fixer import FixOptions, fix_notebook, fix_text
from migrator.rules.registry import RULES

pytest.importorskip("torch")
pytest.importorskip("transformers")

ALL = [e.code for e in RULES]
TARGET = "hf:meta-llama/Llama-3.1-8B-Instruct"
PROGRAMS = sorted((FIXTURES / "hf_programs").glob("*.py"))
NOTEBOOK = FIXTURES / "notebooks" / "gpt2_chat.ipynb"
TUTORIAL = FIXTURES / "examples" / "gpt2_tutorial.py"
# What a chat template adds around a conversation (Llama 3 headers, the fallback's "role:" lines) and the
# transcript labels of GPT-2 chat bots: none of it may reach the answer.
TEMPLATE_TEXT = ("<|", "|>", "assistant:", "user:", "system:", "User:", "Bot:", "assistant\n")
# The hf models the README names for the tutorial.
README_HF_MODELS = (
    "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Llama-3.1-70B-Instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "microsoft/Phi-3.5-mini-instruct",
)


@pytest.fixture(scope="session")
def tiny_chat_llama(tmp_path_factory):
    from tiny_models import build_tiny_chat_llama

    return build_tiny_chat_llama(tmp_path_factory.mktemp("models") / "tiny-chat-llama")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("migrate-cache")


@pytest.fixture(params=["chat-llama", "gpt2-local"])
def local_model(request, monkeypatch, model_cache, tiny_gpt2):
    """Which model the migrated program loads through resolve_model: the Llama-shaped chat model, or the
    tiny GPT-2 without a chat template."""
    path = request.getfixturevalue("tiny_chat_llama") if request.param == "chat-llama" else tiny_gpt2
    monkeypatch.setenv("MIGRATE_BACKEND", "local")
    monkeypatch.setenv("MIGRATE_LOCAL_MODEL", str(path))
    monkeypatch.setenv("MIGRATE_CACHE_DIR", str(model_cache))
    return request.param


def header(text: str, key: str) -> str:
    match = re.search(rf"^# {key}: (.*)$", text, re.MULTILINE)
    assert match, f"missing # {key}: line"
    return match.group(1).strip()


def migrate(path, target=TARGET) -> str:
    options = FixOptions(unsafe=True, target=target)
    text, fixed = fix_text(str(path), path.read_text(), ALL, options)
    assert fixed and "TODO(migrate)" not in text, text
    assert fix_text(str(path), text, ALL, options) == (text, [])  # a second run changes nothing
    return text


def run_source(text: str, path, expression: str):
    path.write_text(text)
    namespace = runpy.run_path(str(path), run_name="migrated_program")
    return eval(expression, namespace)


def assert_assistant_text_only(result, prompts):
    texts = [result] if isinstance(result, str) else list(result)
    assert texts and all(isinstance(t, str) for t in texts), result
    assert any(t.strip() for t in texts), "the model answered nothing"
    for text in texts:
        assert not any(p in text for p in prompts), f"prompt echoed: {text!r}"
        assert not any(marker in text for marker in TEMPLATE_TEXT), f"template text in the answer: {text!r}"


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_migrated_program_returns_the_assistant_text(program, local_model, tmp_path):
    text = migrate(program)
    assert "apply_chat_template(" in text or '"role": "user"' in text
    assert "resolve_model(" in text and "gpt2" not in text.split('"""', 2)[-1].lower().replace("gpt2_", "")
    source = program.read_text()
    prompts = [p.strip() for p in header(source, "prompts").split("|")]
    result = run_source(text, tmp_path / program.name, header(source, "run"))
    assert_assistant_text_only(result, prompts)


def test_the_assertion_catches_gpt2_echoing_the_prompt(tmp_path, monkeypatch, tiny_gpt2):
    """The original program, run on GPT-2, returns the prompt with the continuation: the check above fails."""
    shutil.copytree(tiny_gpt2, tmp_path / "gpt2")  # from_pretrained("gpt2") finds ./gpt2 first, offline
    monkeypatch.chdir(tmp_path)
    program = FIXTURES / "hf_programs" / "generate_script.py"
    result = run_source(program.read_text(), tmp_path / "original.py", 'generate_text("The robot answers")')
    assert result.startswith("The robot answers")
    with pytest.raises(AssertionError, match="prompt echoed"):
        assert_assistant_text_only(result, ["The robot answers"])


@pytest.mark.parametrize("model_id", README_HF_MODELS)
def test_tutorial_migrates_to_each_readme_model_and_runs(model_id, local_model, tmp_path, monkeypatch):
    text = migrate(TUTORIAL, f"hf:{model_id}")
    assert f'resolve_model("{model_id}")' in text and "apply_chat_template(" in text
    monkeypatch.setenv("OPENAI_API_KEY", "unused")  # the openai half is run in tests/test_targets.py
    result = run_source(text, tmp_path / "tutorial.py", 'local_generate("The robot answers")')
    assert_assistant_text_only(result, ["The robot answers"])


def test_notebook_migrates_cell_by_cell_and_runs(local_model, tmp_path):
    path = tmp_path / "gpt2_chat.ipynb"
    shutil.copy(NOTEBOOK, path)
    result = fix_notebook(str(path), ALL, FixOptions(unsafe=True, target=TARGET))
    assert result.error is None and result.new_text is not None
    before, after = json.loads(NOTEBOOK.read_text()), json.loads(result.new_text)
    assert [c.get("id") for c in after["cells"]] == [c.get("id") for c in before["cells"]]  # cells stay cells
    assert [c.get("outputs") for c in after["cells"]] == [c.get("outputs") for c in before["cells"]]
    cells = {c["id"]: "".join(c["source"]) for c in after["cells"]}
    assert cells["install"] == "%pip install transformers torch\n!nvidia-smi"
    assert 'resolve_model("meta-llama/Llama-3.1-8B-Instruct")' in cells["load"]
    assert "apply_chat_template(" in cells["ask"] and "max_new_tokens=40" in cells["ask"]
    assert "TODO(migrate)" not in result.new_text
    namespace: dict = {}
    for cell in after["cells"]:
        if cell["cell_type"] == "code":
            code = "".join(line for line in cell["source"] if not line.lstrip().startswith(("%", "!")))
            exec(compile(code, f"{path}:{cell['id']}", "exec"), namespace)  # noqa: S102 - runs the migrated cells
    assert_assistant_text_only(namespace["answer"], ["What is a robot?"])
