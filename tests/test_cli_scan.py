"""`migrate scan` end to end on temporary projects: discovery, excludes, exit codes, json, bad input."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES

LEGACY = "import openai\nopenai.ChatCompletion.create(model='m', messages=[])\n"
CLEAN = "from openai import OpenAI\nOpenAI().chat.completions.create(model='m', messages=[])\n"


def write(root, rel, text, mode="w"):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def scanned_paths(proc):
    return sorted({row["path"] for row in json.loads(proc.stdout)["findings"]})


@pytest.fixture
def project(tmp_path):
    shutil.copytree(FIXTURES / "examples", tmp_path / "examples")
    return tmp_path


def test_exit_codes_clean_findings(tmp_path, run_cli):
    write(tmp_path, "clean.py", CLEAN)
    assert run_cli("scan", "clean.py").returncode == 0
    write(tmp_path, "legacy.py", LEGACY)
    proc = run_cli("scan", ".")
    assert proc.returncode == 1
    assert "legacy.py:2:1: OAI101 [*]" in proc.stdout
    assert "clean.py" not in proc.stdout


def test_summary_counts(project, run_cli):
    proc = run_cli("scan", "examples", "--output-format", "json", check=1)
    data = json.loads(proc.stdout)
    summary = data["summary"]
    assert summary["files_scanned"] == len(list((FIXTURES / "examples").glob("*.py")))
    assert summary["findings"] == len(data["findings"]) == sum(summary["by_code"].values())
    assert summary["fixable"] == sum(f["fix"]["available"] for f in data["findings"])
    text = run_cli("scan", "examples").stdout
    assert f"Found {summary['findings']} legacy sites in {len({f['path'] for f in data['findings']})} files." in text


def test_json_matches_documented_schema(project, run_cli):
    jsonschema = pytest.importorskip("jsonschema")
    from migrator.output.json_format import SCHEMA

    write(project, "broken.py", "import openai\ndef f(:\n    openai.ChatCompletion.create()\n")
    proc = run_cli("scan", ".", "--output-format", "json")
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["errors"] == [{"path": "broken.py", "message": "syntax error at line 2, column 7: invalid syntax"}]


def test_select_and_ignore_by_code_and_prefix(project, run_cli):
    codes = lambda proc: {f["code"] for f in json.loads(proc.stdout)["findings"]}
    assert codes(run_cli("scan", "examples", "--select", "HF", "--output-format", "json")) == {
        "HF201", "HF202", "HF203", "HF204", "HF205", "HF206", "HF207"}
    got = codes(run_cli("scan", "examples", "--ignore", "OAI,HF2", "--output-format", "json"))
    assert got == {"SEC001"}
    got = codes(run_cli("scan", "examples", "--select", "OAI301", "--select", "OAI302", "--output-format", "json"))
    assert got == {"OAI301", "OAI302"}
    bad = run_cli("scan", "examples", "--select", "XYZ9")
    assert bad.returncode == 2 and "unknown rule selector 'XYZ9'" in bad.stderr


def test_quiet_prints_findings_only(tmp_path, run_cli):
    write(tmp_path, "legacy.py", LEGACY)
    proc = run_cli("scan", "-q", ".")
    assert proc.stdout.strip().splitlines() == [
        ("legacy.py:2:1: OAI101 [*] `openai.ChatCompletion.create` was removed in openai 1.0; use "
         "`client.chat.completions.create(...)`")
    ]


def test_gitignore_nested_and_parent(tmp_path, run_cli):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, ".gitignore", "build_out/\n*_gen.py\n!keep_gen.py\n")
    write(tmp_path, "pkg/.gitignore", "/local.py\n")
    for rel in ("a.py", "build_out/b.py", "x_gen.py", "keep_gen.py", "pkg/local.py", "pkg/sub/local.py", "pkg/c.py"):
        write(tmp_path, rel, LEGACY)
    expected = ["a.py", "keep_gen.py", "pkg/c.py", "pkg/sub/local.py"]
    assert scanned_paths(run_cli("scan", "--output-format", "json")) == expected
    # Run from a subdirectory: the parent repository's .gitignore still applies.
    proc = run_cli("scan", ".", "--output-format", "json", cwd=tmp_path / "pkg")
    assert scanned_paths(proc) == ["c.py", "sub/local.py"]
    write(tmp_path, "pkg/x_gen.py", LEGACY)
    assert scanned_paths(run_cli("scan", ".", "--output-format", "json", cwd=tmp_path / "pkg")) == ["c.py", "sub/local.py"]
    # Opting out of gitignore finds everything.
    everything = scanned_paths(run_cli("scan", "--no-respect-gitignore", "--output-format", "json"))
    assert "build_out/b.py" in everything and "x_gen.py" in everything


def test_default_excludes_virtualenvs_and_generated(tmp_path, run_cli):
    for rel in (".venv/lib/m.py", "venv/m.py", "env/lib/m.py", "node_modules/m.py", "__pycache__/m.py",
                "site-packages/m.py", ".git/m.py", "src/ok.py"):
        write(tmp_path, rel, LEGACY)
    write(tmp_path, "env/pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path, "src/gen.py", "# This file is @generated by a tool.\n" + LEGACY)
    proc = run_cli("scan", "--output-format", "json")
    assert scanned_paths(proc) == ["src/ok.py"]
    assert json.loads(proc.stdout)["summary"]["files_skipped"] == 1


def test_exclude_extend_exclude_force_exclude(tmp_path, run_cli):
    for rel in ("app/a.py", "app/legacy/b.py", "tests/fixtures/c.py", "d.py"):
        write(tmp_path, rel, LEGACY)
    paths = lambda *a: scanned_paths(run_cli("scan", *a, "--output-format", "json"))
    assert paths() == ["app/a.py", "app/legacy/b.py", "d.py", "tests/fixtures/c.py"]
    assert paths("--extend-exclude", "legacy") == ["app/a.py", "d.py", "tests/fixtures/c.py"]
    assert paths("--extend-exclude", "tests/fixtures,d.py") == ["app/a.py", "app/legacy/b.py"]
    assert paths("--exclude", "app") == ["d.py", "tests/fixtures/c.py"]
    # Explicit file names are analysed unless --force-exclude (what pre-commit passes).
    assert paths("--extend-exclude", "legacy", "app/legacy/b.py") == ["app/legacy/b.py"]
    proc = run_cli("scan", "--extend-exclude", "legacy", "--force-exclude", "app/legacy/b.py")
    assert proc.returncode == 0


def test_deterministic_sorted_output(project, run_cli):
    first = run_cli("scan", "examples", "-j", "2").stdout
    assert first == run_cli("scan", "examples", "-j", "1").stdout
    rows = [line.split(":")[:3] for line in first.splitlines() if ": " in line and line.startswith("examples")]
    keys = [(p, int(line), int(col)) for p, line, col in rows]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        pytest.param("syntax.py", b"import openai\nif True\n    openai.ChatCompletion.create()\n", "syntax error at line 2", id="syntax-error"),
        pytest.param(
            "merge.py", b"import openai\n<<<<<<< HEAD\nopenai.Completion.create()\n=======\nx = 2\n>>>>>>> branch\n",
            "syntax error at line 2", id="merge-markers",
        ),
        pytest.param("nb.py", b"!pip install openai==0.28\nimport openai\nopenai.Embedding.create()\n", "syntax error at line 1", id="notebook-shell"),
        pytest.param(
            "latin.py", b"# -*- coding: utf-8 -*-\nimport openai\nx = '\xe9'\nopenai.Model.list()\n", "not valid utf-8: byte 0xe9 at line 3",
            id="not-utf8",
        ),
        pytest.param("bin.py", b"\x7fELF\x02\x01\x00\x00openai", "binary file", id="binary"),
        pytest.param("cookie.py", b"# coding: klingon\nimport openai\n", "encoding", id="unknown-cookie"),
    ],
)
def test_bad_input_is_one_line_and_scan_goes_on(tmp_path, run_cli, name, content, reason):
    write(tmp_path, name, content, mode="wb")
    write(tmp_path, "legacy.py", LEGACY)
    proc = run_cli("scan", ".")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    error_lines = [line for line in proc.stderr.splitlines() if name in line]
    assert len(error_lines) == 1 and reason in error_lines[0], proc.stderr
    assert "legacy.py:2:1: OAI101" in proc.stdout  # the rest of the run went on
    assert (tmp_path / name).read_bytes() == content  # never a lost byte


def test_latin1_cookie_is_honoured(tmp_path, run_cli):
    write(tmp_path, "latin.py", b"# -*- coding: latin-1 -*-\nimport openai\nx = '\xe9'\n" + LEGACY.encode(), mode="wb")
    proc = run_cli("scan", "latin.py")
    assert proc.returncode == 1 and "latin.py:5:1: OAI101" in proc.stdout


def test_prefilter_reads_identifiers_as_python_normalises_them(tmp_path, run_cli):
    """``ｏｐｅｎａｉ`` (full-width) is ``openai`` to Python (NFKC): the pre-filter's needles, absent from
    the bytes, must not rule the file out; a non-ASCII file NFKC leaves alone is ruled out by them."""
    write(tmp_path, "wide.py", "import \uff4f\uff50\uff45\uff4e\uff41\uff49\n"
          "r = \uff4f\uff50\uff45\uff4e\uff41\uff49.ChatCompletion.create(model='gpt-4', messages=[])\n")
    write(tmp_path, "accents.py", "caf\u00e9 = 'cr\u00e8me'\n")
    proc = run_cli("scan", ".", "--output-format", "json")
    data = json.loads(proc.stdout)
    assert data["summary"]["files_scanned"] == 2 and data["summary"]["files_parsed"] == 1
    proc = run_cli("scan", "wide.py", "--output-format", "json")
    assert json.loads(proc.stdout)["summary"]["files_parsed"] == 1


def test_unreadable_and_dangling(tmp_path, run_cli):
    write(tmp_path, "legacy.py", LEGACY)
    os.symlink(tmp_path / "missing.py", tmp_path / "dangling.py")
    proc = run_cli("scan", ".")
    assert proc.returncode == 2
    assert "dangling.py: cannot read file: No such file or directory" in proc.stderr
    assert run_cli("scan", "nonexistent_dir").returncode == 2


def test_permission_denied(tmp_path, run_cli):
    path = write(tmp_path, "secret.py", LEGACY)
    write(tmp_path, "other.py", LEGACY)
    path.chmod(0)
    command = [sys.executable, "-m", "migrator", "scan", "."]
    if os.geteuid() == 0:
        # Root reads any file through CAP_DAC_OVERRIDE (how CI runs): drop that capability (and the
        # search override) for the scan, so a mode-0 file is unreadable to it as to any user.
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *command]
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300, check=False)
    assert proc.returncode == 2 and "secret.py: cannot read file: Permission denied" in proc.stderr
    assert "other.py:" in proc.stdout  # the run goes on past the unreadable file
    assert path.stat().st_mode & 0o777 == 0  # and changes nothing


def test_symlink_loops_terminate(tmp_path, run_cli):
    write(tmp_path, "a/legacy.py", LEGACY)
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")  # directory loop
    os.symlink(tmp_path / "self.py", tmp_path / "self.py")  # file that links to itself
    proc = run_cli("scan", ".")
    assert proc.returncode == 2
    assert "self.py: cannot read file: Too many levels of symbolic links" in proc.stderr
    assert proc.stdout.count(": OAI101 ") == 1
    # Named explicitly, a looping link is one clear error too.
    proc = run_cli("scan", "self.py")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "symbolic links" in proc.stderr


def test_secrets_never_printed_whole(tmp_path, run_cli):
    key = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
    write(tmp_path, "cfg.py", f"import openai\nopenai.api_key = '{key}'\nopenai.ChatCompletion.create()\n")
    for fmt in ("text", "json"):
        proc = run_cli("scan", ".", "--output-format", fmt)
        assert proc.returncode == 1
        assert key not in proc.stdout + proc.stderr
        assert "sk-proj-...M3n4" in proc.stdout


def test_rules_and_explain(run_cli):
    listing = run_cli("rules", check=0).stdout
    from migrator.rules.registry import RULES

    assert [line.split()[0] for line in listing.splitlines()] == [e.code for e in RULES]
    doc = run_cli("explain", "oai301", check=0).stdout
    assert doc.startswith("# OAI301 (legacy-exception)") and "## Fix safety" in doc
    assert run_cli("explain", "NOPE1").returncode == 2
