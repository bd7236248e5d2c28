"""The scan result cache: same answers as without it, invalidated by content and rules, safe to damage."""

import json

LEGACY = "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\n"


def _scan(run_cli, *args):
    proc = run_cli("scan", ".", "--output-format", "json", *args)
    data = json.loads(proc.stdout)
    return proc.returncode, data["findings"], data["errors"], data["summary"]


def test_second_scan_answers_from_the_cache(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    (tmp_path / "bad.py").write_text("import openai\nopenai.ChatCompletion.create(\n")
    (tmp_path / "clean.py").write_text("x = 1\n")
    first = _scan(run_cli)
    cache = tmp_path / ".migrate_cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    entries = next(cache.glob("scan-*.json"))
    assert len(json.loads(entries.read_text())) == 3
    second = _scan(run_cli)
    assert second == first and first[0] == 2 and len(first[1]) == 1 and len(first[2]) == 1

    # the cache answers: a stored result stands in for the file (proved by editing the stored entry)
    data = json.loads(entries.read_text())
    for value in data.values():
        for finding in value[0]:
            finding[3] = "from the cache"
    entries.write_text(json.dumps(data))
    assert [f["message"] for f in _scan(run_cli)[1]] == ["from the cache"]
    assert [f["message"] for f in _scan(run_cli, "--no-cache")[1]] != ["from the cache"]

    # new content and other rules are new keys
    (tmp_path / "a.py").write_text(LEGACY + "openai.Model.list()\n")
    assert len(_scan(run_cli)[1]) == 2
    assert _scan(run_cli, "--select", "HF")[1] == []


def test_damaged_cache_and_no_cache(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    first = _scan(run_cli)
    for entries in (tmp_path / ".migrate_cache").glob("scan-*.json"):
        entries.write_text("{not json")
    assert _scan(run_cli) == first
    (tmp_path / "b.py").write_text(LEGACY)
    other = tmp_path / "other"
    other.mkdir()
    (other / "c.py").write_text(LEGACY)
    run_cli("scan", ".", "--no-cache", cwd=other)
    assert not (other / ".migrate_cache").exists()
    paths = {f["path"] for f in _scan(run_cli)[1]}
    assert paths == {"a.py", "b.py", "other/c.py"}  # nothing from .migrate_cache/
