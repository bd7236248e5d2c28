"""The bundled examples: every `# expect: CODE` annotation is found, and nothing else.

Already-current code under fixtures/modern must produce no finding at all.
"""

import re
from collections import Counter

import pytest
from conftest import FIXTURES

from migrator.engine.runner import analyse_file, analyse_text
from migrator.rules.registry import RULES

ALL_CODES = tuple(e.code for e in RULES)
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")
EXAMPLES = sorted((FIXTURES / "examples").glob("*.py"))
MODERN = sorted((FIXTURES / "modern").glob("*.py"))


def expected_findings(path):
    found = Counter()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for code in match.group(1).split(","):
                found[(number, code.strip())] += 1
    return found


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_find_exactly_the_annotated_sites(path):
    result = analyse_file(str(path), ALL_CODES)
    assert result.error is None
    got = Counter((f.line, f.code) for f in result.findings)
    assert got == expected_findings(path)


@pytest.mark.parametrize("path", MODERN, ids=lambda p: p.name)
def test_current_code_has_no_findings(path):
    result = analyse_text(str(path), path.read_text(), ALL_CODES, prefilter=False)
    assert result.error is None
    assert result.findings == []


@pytest.mark.parametrize("path", EXAMPLES + MODERN, ids=lambda p: p.name)
def test_prefilter_is_sound_on_fixtures(path):
    """With and without the pre-filter, the same findings."""
    text = path.read_text()
    assert analyse_text(str(path), text, ALL_CODES).findings == analyse_text(
        str(path), text, ALL_CODES, prefilter=False
    ).findings


def test_every_rule_is_exercised_by_the_examples():
    """Every rule that fires without a --target has an annotated site in the bundled examples."""
    codes = {code for path in EXAMPLES for (_, code) in expected_findings(path)}
    # Rules that fire only with a --target: each of their must-flag examples carries one.
    target_only = {e.code for e in RULES if all(x.options.get("target") for x in e.load().invalid if x.count)}
    assert codes == set(ALL_CODES) - target_only
