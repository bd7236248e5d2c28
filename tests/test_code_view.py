"""The pre-filter's exact stage (migrator.engine.code_view): what it reads from CPython's parser."""

import pytest

from migrator.engine import code_view as cv
from migrator.rules.registry import LEGACY_OPENAI_MODULES, LEGACY_OPENAI_NAMES


def view(text):
    return cv.code_view(text, LEGACY_OPENAI_NAMES, LEGACY_OPENAI_MODULES)


@pytest.mark.parametrize(("source", "legacy"), [
    ("import openai\nopenai.ChatCompletion.create()\n", True),
    ("import openai\nclient = openai.OpenAI()\n", False),  # the module, but nothing of v0 is reached
    ("import openai as oa\noa.api_key = 'k'\n", True),
    ("import openai.types\nopenai.Completion.create()\n", True),  # `import openai.x` binds openai
    ("import openai.types as t\nt.Completion\n", False),
    ("import openai.error as e\n", True),
    ("from openai import error\n", True),
    ("from openai import OpenAI, AsyncOpenAI\n", False),
    ("from openai import *\nEmbedding.create()\n", True),
    ("from openai import *\nclient = OpenAI()\n", False),
    ("from openai.embeddings_utils import get_embedding\n", True),
    ("from openai.types.chat import ChatCompletion\n", False),
    ("import openai\nfrom unittest import mock\nmock.patch.object(openai, 'Completion')\n", True),
    ("def f():\n    import openai\n    return openai.Model.list()\n", True),  # local imports count
    ('"""import openai\nopenai.ChatCompletion.create()"""\n', False),  # a docstring is no code
])
def test_legacy_reach_of_openai_imports(source, legacy):
    assert view(source).legacy_openai is legacy


def test_docstrings_are_blanked_keeping_offsets_and_line_ends():
    text = ('"""D\u00e9j\u00e0 vu \u2026\r\nsecond line"""\r\nx = "\u00e9"; "bare"; y = 1\r\n'
            'def f():\n    \'\'\'doc\'\'\'\n    return "kept"\n')
    seen = view(text)
    assert len(seen.code) == len(text)
    assert [i for i, c in enumerate(seen.code) if c in "\r\n"] == [i for i, c in enumerate(text) if c in "\r\n"]
    assert "D\u00e9j\u00e0" not in seen.code and "second line" not in seen.code and "doc" not in seen.code
    assert "bare" not in seen.code
    assert 'x = "\u00e9";' in seen.code and "y = 1" in seen.code and '"kept"' in seen.code


def test_what_python_cannot_parse_or_is_too_large_gets_no_view(monkeypatch):
    assert view("print 'python 2'\n") is None
    assert view("x = (" * 300 + ")" * 300) is None  # more nesting than CPython's parser takes
    monkeypatch.setattr(cv, "MAX_PARSE_BYTES", 100)
    assert view("import openai\n" + "x = 1\n" * 50) is None


def test_facts_for_single_rules():
    seen = view(
        "import openai\n"
        "try:\n    pass\nexcept openai.error.APIError as err:\n    print(err.http_status)\n"
        "print(response.headers)\n"
        "client = openai.OpenAI(api_key='sk-test-0123456789abcdef', organization='')\n"
        "def show(resp, *, other):\n    return resp['choices'], other['usage'], local['results']\n"
    )
    assert seen.caught_attributes == {"http_status"}
    assert seen.given_strings == {"api_key"}  # an empty string is nobody's secret
    assert seen.reads_parameter_keys(frozenset({"choices"}))
    assert seen.reads_parameter_keys(frozenset({"usage"}))
    assert not seen.reads_parameter_keys(frozenset({"results"}))  # `local` is no parameter
