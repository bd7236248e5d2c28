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
    assert len(json.loads(entries.read_text())["entries"]) == 3
    second = _scan(run_cli)
    assert second == first and first[0] == 2 and len(first[1]) == 1 and len(first[2]) == 1

    # the cache answers: a stored result stands in for the file (proved by editing the stored entry)
    data = json.loads(entries.read_text())
    for value in data["entries"].values():
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


def _same_size_clean(text):
    """Code of the same length as ``text`` with nothing to find."""
    clean = "x = 1\n"
    return clean + "#" * (len(text) - len(clean) - 1) + "\n"


def test_an_unchanged_stat_spares_the_read_and_a_recent_change_is_always_read(tmp_path, run_cli):
    """Like git's index: size, mtime and inode unchanged -> the stored result, without reading the file;
    a file modified within RACY_SECONDS of being recorded is read (and hashed) on every run."""
    import os
    import time

    old = tmp_path / "old.py"
    old.write_text(LEGACY)
    past = time.time_ns() - 100 * 10**9
    os.utime(old, ns=(past, past))
    assert [f["code"] for f in _scan(run_cli)[1]] == ["OAI101"]
    # Rewritten in place (same inode), same size, mtime put back: the stat says unchanged.
    with open(old, "r+") as fh:
        fh.write(_same_size_clean(LEGACY))
    os.utime(old, ns=(past, past))
    assert [f["code"] for f in _scan(run_cli)[1]] == ["OAI101"], "answered from the stat, not read"
    os.utime(old)  # any new mtime: read again
    assert _scan(run_cli)[1] == []

    recent = tmp_path / "recent.py"
    recent.write_text(LEGACY)
    assert [f["path"] for f in _scan(run_cli)[1]] == ["recent.py"]
    stamp = recent.stat().st_mtime_ns
    with open(recent, "r+") as fh:  # changed within the same mtime: only the content tells
        fh.write(_same_size_clean(LEGACY))
    os.utime(recent, ns=(stamp, stamp))
    assert _scan(run_cli)[1] == [], "a recent file must not be trusted by its stat"
