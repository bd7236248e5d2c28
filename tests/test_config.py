"""[tool.migrate] in pyproject.toml: discovery upward, CLI precedence, validation, per-file ignores."""

import json

LEGACY = "import openai\nr = openai.ChatCompletion.create(model='gpt-4', messages=[])\n"


def codes(proc):
    return sorted({f["code"] for f in json.loads(proc.stdout)["findings"]})


def test_nearest_config_is_found_from_a_subdirectory(tmp_path, run_cli):
    (tmp_path / "pyproject.toml").write_text('[tool.migrate]\nselect = ["OAI7"]\n')
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "a.py").write_text(LEGACY.replace("gpt-4", "text-davinci-003"))
    proc = run_cli("scan", "sub", "--output-format", "json", cwd=tmp_path / "pkg")
    assert codes(proc) == ["OAI701"]
    # CLI flags win over the file.
    proc = run_cli("scan", "sub", "--select", "OAI101", "--output-format", "json", cwd=tmp_path / "pkg")
    assert codes(proc) == ["OAI101"]


def test_unknown_key_and_bad_values_name_the_key_and_file(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.migrate]\nselct = ["OAI"]\n')
    proc = run_cli("scan", ".")
    assert proc.returncode == 2
    assert "unknown key 'selct' in [tool.migrate]" in proc.stderr and str(config) in proc.stderr
    for body, fragment in [
        ('client-style = "global"', 'client-style: expected "client" or "module"'),
        ('target = "nowhere:x"', "unknown provider 'nowhere'"),
        ("unsafe-fixes = 1", "unsafe-fixes: expected true or false"),
        ('select = "OAI"', "select: expected a list of strings"),
        ('select = ["XX9"]', "unknown rule selector 'XX9'"),
    ]:
        config.write_text(f"[tool.migrate]\n{body}\n")
        proc = run_cli("scan", ".")
        assert proc.returncode == 2 and fragment in proc.stderr, (body, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_target_and_options_from_config(tmp_path, run_cli):
    (tmp_path / "pyproject.toml").write_text('[tool.migrate]\ntarget = "mistral:mistral-small-latest"\n')
    (tmp_path / "a.py").write_text(LEGACY)
    assert run_cli("apply", ".").returncode == 0
    text = (tmp_path / "a.py").read_text()
    assert "https://api.mistral.ai/v1" in text and "model='mistral-small-latest'" in text
    # --target on the command line wins.
    (tmp_path / "b.py").write_text(LEGACY)
    assert run_cli("apply", "b.py", "--target", "ollama:llama3.2").returncode == 0
    assert "localhost:11434" in (tmp_path / "b.py").read_text()


def test_client_style_from_config(tmp_path, run_cli):
    (tmp_path / "pyproject.toml").write_text('[tool.migrate]\nclient-style = "module"\n')
    (tmp_path / "a.py").write_text(LEGACY)
    assert run_cli("apply", ".").returncode == 0
    assert "openai.chat.completions.create" in (tmp_path / "a.py").read_text()


def test_per_file_ignores_and_extend_exclude(tmp_path, run_cli):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.migrate]\nextend-exclude = ["vendored"]\n[tool.migrate.per-file-ignores]\n"tests/*" = ["OAI101"]\n'
    )
    for rel in ("app.py", "tests/test_app.py", "vendored/x.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(LEGACY)
    data = json.loads(run_cli("scan", ".", "--output-format", "json").stdout)
    assert sorted((f["path"], f["code"]) for f in data["findings"]) == [("app.py", "OAI101")]
    # A CLI --extend-exclude adds to the configured one.
    data = json.loads(run_cli("scan", ".", "--extend-exclude", "app.py", "--output-format", "json").stdout)
    assert data["findings"] == []


def test_explicit_config_flag(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    other = tmp_path / "elsewhere.toml"
    other.write_text('[tool.migrate]\nignore = ["OAI"]\n')
    assert run_cli("scan", ".", "--config", str(other)).returncode == 0
    assert run_cli("scan", ".").returncode == 1
