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
    assert any(example.count for example in rule.invalid), "a must-flag example must flag something"
    doc = rule.__doc__ or ""
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
        assert section in doc, f"{entry.code} docstring lacks {section!r}"


def findings_of(example, codes):
    """What scanning ``example`` with ``codes`` finds, under the example's own run options."""
    if not example.options:
        result = analyse_text("example.py", example.code, codes)
        assert result.error is None, result.error
        return result.findings
    import libcst as cst

    from migrator.engine.analysis import run_rules
    from migrator.rules.registry import BY_CODE
    from migrator.rules.types import RunOptions

    module = cst.parse_module(example.code)
    return run_rules("example.py", module, [BY_CODE[c].load() for c in codes], RunOptions(**example.options))


@pytest.mark.parametrize(("entry", "example"), CASES_INVALID)
def test_invalid_example_is_flagged(entry, example):
    findings = findings_of(example, [entry.code])
    codes = [f.code for f in findings]
    assert codes.count(entry.code) == example.count, findings
    if example.line is not None:
        assert findings[0].line == example.line


@pytest.mark.parametrize(("entry", "example"), [c for c in CASES_INVALID if c.values[1].count])
def test_prefilter_keeps_every_invalid_example(entry, example):
    """Soundness: the text pre-filter never drops a file that has a finding."""
    from migrator.engine.prefilter import prefilter_for

    target = bool(example.options.get("target"))
    assert entry.code in prefilter_for((entry.code,), target).candidate_rules(example.code)


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
    options = FixOptions(unsafe=True, **example.options)
    fixed, applied = fix_text("example.py", example.code, codes, options)
    assert fixed == example.fixed
    assert entry.code in {f.code for f in applied}
    again, _ = fix_text("example.py", fixed, codes, options)
    assert again == fixed
