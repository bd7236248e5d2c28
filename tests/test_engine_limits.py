"""Pathological inputs: each is handled or skipped with a one-line reason; never a traceback or a hang."""

from __future__ import annotations

import json
import os

import pytest

LEGACY = "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\n"


def _one_line_error(proc, name: str, reason: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    # (diff also prints the client plan on stderr, which may name the file: only error lines count)
    lines = [line for line in proc.stderr.splitlines() if name in line and line.startswith("error:")]
    assert len(lines) == 1 and reason in lines[0], proc.stderr


@pytest.mark.parametrize("command", ["scan", "apply"])
def test_deep_nesting(tmp_path, run_cli, command):
    # 10,000 brackets crash libcst's native parser (a segfault): CPython's parser must turn them away first
    (tmp_path / "brackets.py").write_text(LEGACY + "x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n")
    (tmp_path / "some_parens.py").write_text(LEGACY + "x = " + "(" * 300 + "1" + ")" * 300 + "\n")  # handled
    (tmp_path / "chain.py").write_text(LEGACY + "y = " + " + ".join(["a"] * 3000) + "\n")
    (tmp_path / "nots.py").write_text(LEGACY + "z = " + "not " * 5000 + "a\n")
    (tmp_path / "ok.py").write_text(LEGACY)
    proc = run_cli(command, ".")
    for name in ("brackets.py", "chain.py", "nots.py"):
        _one_line_error(proc, name, "too deeply nested")
    if command == "scan":
        assert "some_parens.py" not in proc.stderr
    else:  # CPython cannot compile 300 nested brackets: apply will not write what it cannot check
        _one_line_error(proc, "some_parens.py", "too deeply nested for Python's own parser")
        assert "client.chat.completions.create" in (tmp_path / "ok.py").read_text()
        assert (tmp_path / "chain.py").read_text().startswith(LEGACY)


def test_very_large_generated_module(tmp_path, run_cli):
    body = "".join(f"TABLE_{i} = {{'model': 'gpt-3.5-turbo', 'id': {i}}}\n" for i in range(330_000))
    (tmp_path / "big.py").write_text(LEGACY + body)  # about 20 MB
    assert os.path.getsize(tmp_path / "big.py") > 15e6
    proc = run_cli("scan", ".", "--no-cache")
    _one_line_error(proc, "big.py", "too large to analyse")


def test_large_notebook(tmp_path, run_cli):
    cells = [{"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {},
              "outputs": [{"output_type": "stream", "name": "stdout", "text": ["x" * 1000 + "\n"] * 50_000}],
              "source": [LEGACY]}]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "big.ipynb").write_text(json.dumps(notebook, indent=1) + "\n")
    assert os.path.getsize(tmp_path / "big.ipynb") > 50e6
    proc = run_cli("scan", ".", "--output-format", "json", "--no-cache")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["findings"][0]["path"] == "big.ipynb:cell 1"


@pytest.mark.parametrize("command", ["scan", "diff"])
def test_per_file_time_limit(tmp_path, run_cli, command):
    (tmp_path / "slow.py").write_text(LEGACY + "".join(f"v{i} = f(x)[{i}]\n" for i in range(20_000)))
    proc = run_cli(command, ".", "--timeout", "0.05", "--no-cache" if command == "scan" else "--exit-zero")
    _one_line_error(proc, "slow.py", "took longer than the 0.05s limit per file")


def test_many_files(tmp_path, run_cli):
    count = int(os.environ.get("MIGRATE_MANY_FILES", "5000"))
    for index in range(count):
        folder = tmp_path / f"d{index // 1000}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{index}.py").write_text("x = 1\n" if index % 500 else LEGACY)
    proc = run_cli("scan", ".", "--output-format", "json", "--no-cache")
    summary = json.loads(proc.stdout)["summary"]
    assert summary["files_scanned"] == count and summary["findings"] == count // 500
