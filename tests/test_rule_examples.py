"""Tests generated from the examples each rule carries in its class (docs and tests at once)."""

import pytest

from migrator.engine.runner import analyse_text
from migrator.rules.registry import RULES

CASES_INVALID = [
    pytest.param(entry, example, id=f"{entry.code}-invalid-{i}")
    for entry in RULES
    for i, example in enumerate(entry.load().invalid)
]
CASES_VALID = [
    pytest.param(entry, example, id=f"{entry.code}-valid-{i}")
    for entry in RULES
    for i, example in enumerate(entry.load().valid)
]


@pytest.mark.parametrize("entry", RULES, ids=lambda e: e.code)
def test_every_rule_has_examples_and_documentation(entry):
    rule = entry.load()
    assert len(rule.invalid) >= 1 and len(rule.valid) >= 1
    # Rules silent without a target have their must-flag examples checked with one (tests/test_hf_rewrites.py).
    if not (entry.needs_target and (entry.fix.value == "report-only" or getattr(rule, "reports_only_with_target", False))):
        assert any(example.count for example in rule.invalid), "a must-flag example must flag something"
    doc = rule.__doc__ or ""
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
        assert section in doc, f"{entry.code} docstring lacks {section!r}"


@pytest.mark.parametrize(("entry", "example"), CASES_INVALID)
def test_invalid_example_is_flagged(entry, example):
    result = analyse_text("example.py", example.code, [entry.code])
    assert result.error is None, result.error
    codes = [f.code for f in result.findings]
    assert codes.count(entry.code) == example.count, result.findings
    if example.line is not None:
        assert result.findings[0].line == example.line


@pytest.mark.parametrize(("entry", "example"), [c for c in CASES_INVALID if c.values[1].count])
def test_prefilter_keeps_every_invalid_example(entry, example):
    """Soundness: the text pre-filter never drops a file that has a finding."""
    from migrator.engine.runner import _prefilter

    assert entry.code in _prefilter((entry.code,)).candidate_rules(example.code)


@pytest.mark.parametrize(("entry", "example"), CASES_VALID)
def test_valid_example_is_not_flagged(entry, example):
    result = analyse_text("example.py", example, [entry.code], prefilter=False)
    assert result.error is None, result.error
    assert [f for f in result.findings if f.code == entry.code] == []


CASES_FIXED = [
    pytest.param(entry, example, id=f"{entry.code}-fix-{i}")
    for entry in RULES
    for i, example in enumerate(entry.load().invalid)
    if example.fixed is not None
]


@pytest.mark.parametrize(("entry", "example"), CASES_FIXED)
def test_fix_example(entry, example):
    """`fixed` is what `migrate apply --unsafe-fixes` makes of the example (all rules enabled), and a
    second run changes nothing."""
    from migrator.engine.fixer import FixOptions, fix_text

    codes = [e.code for e in RULES]
    fixed, applied = fix_text("example.py", example.code, codes, FixOptions(unsafe=True))
    assert fixed == example.fixed
    assert entry.code in {f.code for f in applied}
    again, _ = fix_text("example.py", fixed, codes, FixOptions(unsafe=True))
    assert again == fixed
