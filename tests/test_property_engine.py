"""Property tests: for any input, scanning and fixing never raise; a fix always parses, never touches a file
without findings, and a second fix changes nothing.

Inputs are generated programs (hypothesmith, from Python's grammar) with legacy imports spliced in, and
mutations of the fixtures and of standard-library files (lines dropped, duplicated, swapped, cut short).
A bounded number of examples runs by default; ``MIGRATE_PROPERTY_EXAMPLES=2000`` for a long run.
"""

from __future__ import annotations

import ast
import os
import sysconfig
from pathlib import Path

import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.engine.fixer import FixOptions, fix_text
from migrator.engine.runner import analyse_text
from migrator.engine.source import SourceError
from migrator.rules.registry import select_rules

CODES = tuple(e.code for e in select_rules())
EXAMPLES = int(os.environ.get("MIGRATE_PROPERTY_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize="MIGRATE_PROPERTY_EXAMPLES" not in os.environ,
                    suppress_health_check=list(HealthCheck))

SEEDS = [p.read_text() for p in sorted((FIXTURES / "rewrites").glob("*.before.py"))]
SEEDS += [p.read_text() for p in sorted((FIXTURES / "examples").glob("*.py"))]
STDLIB = Path(sysconfig.get_paths()["stdlib"])
SEEDS += [(STDLIB / name).read_text() for name in ("textwrap.py", "shlex.py", "fnmatch.py")]
HEADERS = ["", "import openai\n", "import openai as oai\n", "from openai import ChatCompletion\n",
           "from transformers import AutoModel, GPT2LMHeadModel\n"]
LEGACY_LINES = [
    "r = openai.ChatCompletion.create(model='gpt-4', messages=m, request_timeout=3)\n",
    "text = r['choices'][0]['message']['content']\n",
    "openai.api_key = 'sk-' + 'x'\n",
    "except openai.error.RateLimitError:\n    pass\n",
    "m = GPT2LMHeadModel.from_pretrained('gpt2', torch_dtype='auto')\n",
]


@st.composite
def mutated(draw) -> str:
    lines = draw(st.sampled_from(SEEDS)).splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "dup", "swap", "cut", "insert"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            lines.insert(i, draw(st.sampled_from(LEGACY_LINES)))
    return draw(st.sampled_from(HEADERS)) + "".join(lines)


def _generated():
    try:
        import hypothesmith
    except ImportError:  # pragma: no cover - optional
        return st.nothing()
    return st.builds(lambda header, body, line: header + body + "\n" + line,
                     st.sampled_from(HEADERS), hypothesmith.from_grammar(), st.sampled_from(LEGACY_LINES))


def check(text: str, options: FixOptions) -> None:
    scan = analyse_text("prop.py", text, CODES)  # never raises: errors are results
    try:
        fixed, applied = fix_text("prop.py", text, CODES, options)
    except SourceError:
        assert scan.error is not None or scan.findings, "a fix failed on a file the scan found nothing wrong with"
        return
    if fixed != text:
        ast.parse(fixed)
        assert scan.findings, "a file without findings was changed"
        again, more = fix_text("prop.py", fixed, CODES, options)
        assert again == fixed and more == []
    else:
        assert applied == []


@SETTINGS
@given(text=mutated(), unsafe=st.booleans())
def test_mutated_sources(text, unsafe):
    check(text, FixOptions(unsafe=unsafe))


@pytest.mark.skipif(isinstance(_generated(), type(st.nothing())), reason="hypothesmith is not installed")
@SETTINGS
@given(text=_generated())
def test_generated_programs(text):
    check(text, FixOptions())
