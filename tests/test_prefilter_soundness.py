"""The pre-filter never drops a rule that has a finding, on every legacy source the project ships.

tests/test_fixture_examples.py checks fixtures/examples and fixtures/modern; this covers the rewrite pairs,
the end-to-end programs and the real-repository apps, without and with an ``hf:`` target (a run with a
target keeps the rules whose findings are about the target model).
"""

import pytest
from conftest import FIXTURES

from migrator.engine.analysis import run_rules
from migrator.engine.limits import parse_module
from migrator.engine.prefilter import prefilter_for
from migrator.rules.registry import BY_CODE, RULES
from migrator.rules.types import RunOptions

ALL_CODES = tuple(e.code for e in RULES)
HF_TARGET = "hf:meta-llama/Llama-3.1-8B-Instruct"
SOURCES = sorted(
    {*(FIXTURES / "rewrites").glob("*.before.py"), *(FIXTURES / "e2e").rglob("*.py"),
     *(FIXTURES / "hf_programs").rglob("*.py"), *(FIXTURES / "mocks").rglob("*.py")}
)


def test_the_sources_are_there():
    assert len(SOURCES) > 200
    assert any("apps" in p.parts for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_rule_with_a_finding_is_a_candidate(path):
    text = path.read_text()
    module = parse_module(text)
    rules = [e.load() for e in RULES]
    for target, options in ((False, RunOptions()), (True, RunOptions(target=HF_TARGET))):
        found = {f.code for f in run_rules(str(path), module, rules, options)}
        candidates = set(prefilter_for(ALL_CODES, target).candidate_rules(text))
        assert found <= candidates, (target, found - candidates)


@pytest.mark.parametrize("entry", RULES, ids=lambda e: e.code)
def test_target_only_rules_are_exactly_those_whose_examples_need_a_target(entry):
    """``target_only`` drops a rule from every run without --target: the rule's own examples agree (each
    must-flag example carries a target, and without it finds nothing)."""
    rule = entry.load()
    flagged = [x for x in rule.invalid if x.count]
    assert entry.target_only == all(x.options.get("target") for x in flagged)
    if entry.target_only:
        assert entry.needs_target
        for example in flagged:
            findings = run_rules("example.py", parse_module(example.code), [rule], RunOptions())
            assert [f for f in findings if f.code == entry.code] == []


# Shapes a rule's own examples do not show, whose finding the pre-filter must still keep.
SHAPES = [
    ("HF202", "from transformers import (\n    AutoModel,  # the auto class\n    GPT2LMHeadModel,\n)\nGPT2LMHeadModel.from_pretrained('x')\n"),
    ("HF202", "from transformers import \\\n    GPT2Model\nGPT2Model(cfg)\n"),
    ("HF202", "import transformers\nm = transformers.\\\n    GPT2Model(cfg)\n"),
    ("HF202", "def load():\n    return GPT2Model(cfg)\nfrom transformers import *\n"),
    ("HF202", "from transformers import *\nTFGPT2LMHeadModel.from_pretrained('x')\n"),
    ("HF203", "from transformers import AutoModel\nAutoModel.from_pretrained(\n    'x',  # a comment\n    torch_dtype  # another\n    = 'auto')\n"),
    ("HF203", "from transformers import AutoModel\nAutoModel.from_pretrained(torch_dtype \\\n= 'auto', pretrained_model_name_or_path='x')\n"),
    ("HF205", "import transformers\ntransformers.pipeline('text-generation', 'x', *rest,\\\n    load_in_4bit=True)\n"),
    ("OAI701", "import openai\nopenai.Completion.create(engine=r\"\"\"code-cushman-001\"\"\", prompt='p')\n"),
    ("OAI701", "from openai import OpenAI\nID = u'gpt-3.5-turbo-16k-0613'\nOpenAI().chat.completions.create(model=ID, messages=[])\n"),
    # The exact stage (Python's parser) keeps every way code reaches the v0 API ...
    ("OAI301", "import openai.error as E\ntry:\n    pass\nexcept E.RateLimitError:\n    pass\n"),
    ("OAI101", "from openai import (\n    ChatCompletion,  # c\n)\nChatCompletion.create(model='gpt-4', messages=[])\n"),
    ("OAI101", "import os, openai as oa\noa.ChatCompletion.create(model='gpt-4', messages=[])\n"),
    ("OAI101", "import openai.types\nopenai.Completion.create(model='gpt-3.5-turbo-instruct', prompt='p')\n"),
    ("OAI101", "from openai import *\nChatCompletion.create(model='gpt-4', messages=[])\n"),
    ("OAI101", "import openai\nr = (openai  # the module\n     .ChatCompletion.create(model='gpt-4', messages=[]))\n"),
    ("OAI601", "import openai\nfrom unittest import mock\nwith mock.patch.object(openai, 'ChatCompletion'):\n    pass\n"),
    ("OAI303", "from openai import APIStatusError\ntry:\n    pass\nexcept APIStatusError as e:\n    print(e.headers)\n"),
    ("OAI303", "import openai\nfor r in rs:\n    if isinstance(r, openai.error.RateLimitError):\n        print(r.http_status)\n"),
    ("SEC001", "import openai\nopenai.api_key = ('f3a9c2d4'\n    'e5b6a7c8')\n"),
    ("SEC001", "from openai import OpenAI\nclient = OpenAI(api_key='f3a9c2d4e5b6a7c8')\n"),
    # ... and finds the code around docstrings, whatever the characters and line ends there.
    ("HF201", '"""\u00dcn\u00efc\u00f6d\u00e9 \u2026 gpt2"""\nfrom transformers import AutoModel\nAutoModel.from_pretrained("gpt2")\n'),
    ("HF201", ('"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"; import transformers; '
              'transformers.AutoModel.from_pretrained("gpt2")\n')),
    ("HF201", ('"""Example:\n\n    from transformers import AutoModel\n"""\nimport transformers\n'
              "transformers.AutoModel.from_pretrained('distilgpt2')\n")),
    ("HF206", ("def f():\n    '''docs'''\n    from transformers import AutoTokenizer\n"
              "    tok = AutoTokenizer.from_pretrained('x')\n    return tok.encode_plus('hi')\n")),
    ("HF201", "from transformers import AutoModel\r\n'''a\r\nb'''\r\nAutoModel.from_pretrained('gpt2')\r\n"),
    ("HF201", "from transformers import AutoModel\n\x0c\n'''x'''\nAutoModel.from_pretrained('gpt2')\n"),
]


@pytest.mark.parametrize(("code", "source"), SHAPES)
def test_prefilter_keeps_other_shapes(code, source):
    findings = run_rules("shape.py", parse_module(source), [e.load() for e in RULES if e.code == code])
    assert [f.code for f in findings if f.code == code], "the shape is no finding: the case tests nothing"
    assert code in prefilter_for(ALL_CODES).candidate_rules(source)


def test_every_retired_model_id_keeps_oai701_without_a_target():
    """Without --target OAI701 is filtered by the retired ids alone (``untargeted_tokens``): each id of
    the rule's table, used as a call's model, keeps it a candidate."""
    from migrator.rules.openai_v0.model_id import RETIRED

    rule = [e.load() for e in RULES if e.code == "OAI701"]
    for model in RETIRED:
        source = f"import openai\nopenai.Completion.create(model='{model}', prompt='p')\n"
        assert [f.code for f in run_rules("m.py", parse_module(source), rule)] == ["OAI701"], model
        assert "OAI701" in prefilter_for(ALL_CODES).candidate_rules(source), model


def test_oai701_filter_depends_on_the_target():
    """A current model id is a finding only with a target: the run without one does not parse for it."""
    source = "from openai import OpenAI\nOpenAI().chat.completions.create(model='gpt-4o', messages=[])\n"
    rule = [e.load() for e in RULES if e.code == "OAI701"]
    assert run_rules("m.py", parse_module(source), rule) == []
    assert [f.code for f in run_rules("m.py", parse_module(source), rule, RunOptions(target="anthropic:claude-sonnet-4-5"))] == ["OAI701"]
    assert "OAI701" not in prefilter_for(ALL_CODES).candidate_rules(source)
    assert "OAI701" in prefilter_for(ALL_CODES, True).candidate_rules(source)


def test_keyword_filters_skip_assignments_and_longer_names():
    """The HF203-HF205 filters want a keyword argument: these texts name the word and are not parsed."""
    for source in ("import transformers\ntorch_dtype = kwargs.pop('torch_dtype', None)\n",
                   "import transformers\nstr_to_torch_dtype = {}\nif torch_dtype == 'auto':\n    pass\n"):
        assert "HF203" not in prefilter_for(ALL_CODES).candidate_rules(source)


@pytest.mark.parametrize("entry", [e for e in RULES if e.token_needle], ids=lambda e: e.code)
def test_every_token_match_contains_a_token_needle(entry):
    """``token_needle`` is searched before ``tokens``: every match of the regex, on every source the
    project ships and every example of the rules, holds one of its literals."""
    import re

    from migrator.rules.registry import RULES as ENTRIES

    needles = entry.token_needle.split("|")
    texts = [p.read_text() for p in SOURCES]
    texts += [x if isinstance(x, str) else x.code for e in ENTRIES for x in (*e.load().valid, *e.load().invalid)]
    texts += [source for _, source in SHAPES]
    matches = [m.group() for t in texts for m in re.finditer(entry.tokens, t)]
    assert matches, "no source exercises the filter"
    assert all(any(n in m for n in needles) for m in matches)


# Texts the text stage keeps and the exact stage drops: each has nothing for the rule to find.
EXACT_DROPS = [
    ("OAI101", "from openai.types import Completion\n\ndef f(c: Completion) -> str:\n    return c.choices[0].text\n"),
    ("OAI101", "import openai._client as c\nclass Completion: pass\nx = c.OpenAI()\n"),
    ("OAI101", "from openai import OpenAI, BaseModel\nclass Completion(BaseModel):\n    error: str\n"),
    ("OAI201", "import openai.lib._parsing as p\napi_key = p.api_key\n"),
    ("HF201", '"""\n>>> from transformers import AutoModel\n>>> AutoModel.from_pretrained("gpt2")\n"""\nimport transformers\n'),
    ("HF206", 'import transformers\ndef f():\n    """Calls `.encode_plus` no more."""\n'),
    ("OAI303", "from openai import OpenAI\ntry:\n    pass\nexcept Exception as e:\n    print(resp.headers)\n"),
    ("SEC001", "from openai import OpenAI\nclient = OpenAI(api_key='')\n"),
    ("SEC001", "import openai\n\"\"\"openai.api_key = 'f3a9c2d4e5b6a7c8'\"\"\"\n"),
]


@pytest.mark.parametrize(("code", "source"), EXACT_DROPS)
def test_exact_stage_drops_what_only_looks_like_legacy_code(code, source):
    from migrator.engine.prefilter import Prefilter

    entry = BY_CODE[code]
    assert run_rules("drop.py", parse_module(source), [entry.load()]) == []
    assert code in Prefilter([entry], exact=False).candidate_rules(source), "the text stage drops it: tests nothing"
    assert code not in prefilter_for(ALL_CODES, True).candidate_rules(source)


def test_a_file_python_cannot_parse_keeps_the_text_stage_decision():
    """A grammar this interpreter's parser rejects: no exact stage, the text stage's answer stands."""
    source = "import openai\nopenai.ChatCompletion.create(model='gpt-4', messages=[])\nprint 'py2'\n"
    assert "OAI101" in prefilter_for(ALL_CODES).candidate_rules(source)


def test_legacy_openai_names_cover_the_catalog():
    """The exact stage asks whether an openai import binds one of these: every v0 member the openai rules
    look for is one of them."""
    from migrator.rules.openai_v0 import catalog
    from migrator.rules.registry import LEGACY_OPENAI_MODULES, LEGACY_OPENAI_NAMES

    members = {*catalog.RESOURCES, *catalog.REMOVED_RESOURCES, *catalog.CONFIG_WITH_EQUIVALENT, *catalog.CONFIG_REMOVED,
               *catalog.REMOVED_TOP_LEVEL_ERRORS, "error", "Timeout", *catalog.LEGACY_MODULES}
    assert members <= LEGACY_OPENAI_NAMES
    assert set(catalog.LEGACY_MODULES) | {"error"} <= LEGACY_OPENAI_MODULES


def _installed(package: str) -> list:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None
    return sorted(Path(spec.origin).parent.rglob("*.py"))


def test_exact_stage_on_real_packages_drops_only_rules_without_findings():
    """On the installed openai and transformers packages (current-SDK code, docstrings full of examples),
    every rule the exact stage drops from a file finds nothing there when run."""
    from migrator.engine.prefilter import Prefilter
    from migrator.engine.source import SourceError, read_source

    codes = [c for c in ALL_CODES if not BY_CODE[c].target_only]
    text_stage = Prefilter([BY_CODE[c] for c in codes], False, exact=False)
    exact = prefilter_for(tuple(codes))
    checked = 0
    for path in _installed("openai") + _installed("transformers"):
        try:
            text = read_source(path).text
        except SourceError:
            continue
        dropped = set(text_stage.candidate_rules(text)) - set(exact.candidate_rules(text))
        if dropped:
            found = run_rules(str(path), parse_module(text), [BY_CODE[c].load() for c in sorted(dropped)])
            assert found == [], (path, found)
            checked += 1
    assert checked >= 10, "the packages no longer exercise the exact stage"
