"""Packaging promises: a light import path, templates inside the wheel, docs generated from the rules."""

import subprocess
import sys
import zipfile

import pytest
from conftest import FIXTURES, ROOT

HEAVY = ("torch", "transformers", "openai", "numpy", "tokenizers")


def test_import_and_scan_do_not_load_heavy_libraries():
    """`import migrator` and a full `migrate scan` (with files that get parsed) stay light."""
    code = f"""
import sys
import migrator, migrator.cli
from click.testing import CliRunner
result = CliRunner().invoke(migrator.cli.main, ["scan", "-j", "1", {str(FIXTURES / "examples")!r}])
assert result.exit_code == 1, result.output
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print(",".join(heavy))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_sparse_scan_does_not_import_libcst():
    """Files the pre-filter rules out are never parsed, so libcst is not even imported."""
    code = f"""
import sys
from migrator.engine.runner import analyse_paths
results = list(analyse_paths([{str(ROOT / "migrator" / "engine" / "discovery.py")!r}], ["OAI101", "HF201"], jobs=1))
assert not results[0].parsed
print("libcst" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_wheel_ships_templates_and_every_package(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        pytest.fail(proc.stderr)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (ROOT / "templates").rglob("*.j2"):
        assert f"migrator/templates/{template.relative_to(ROOT / 'templates').as_posix()}" in names
    for module in (ROOT / "migrator").rglob("*.py"):
        assert module.relative_to(ROOT).as_posix() in names
    assert "migrator/targets/providers.toml" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_rule_docs_are_generated_from_the_rules():
    from migrator.output.docs import render_rules_markdown

    assert (ROOT / "docs" / "rules.md").read_text() == render_rules_markdown(), (
        "docs/rules.md is stale: run `python -m migrator.output.docs`"
    )


def test_readme_rule_table_is_generated_from_the_registry():
    from migrator.output.docs import sync_readme
    from migrator.rules.registry import RULES

    readme = (ROOT / "README.md").read_text()
    assert readme == sync_readme(readme), "README's rule table is stale: run `python -m migrator.output.docs`"
    for entry in RULES:
        assert f"[{entry.code}](docs/rules.md#" in readme
