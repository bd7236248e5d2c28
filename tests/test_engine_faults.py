"""The engine under faults: files changed during a run, killed runs (SIGKILL and SIGINT at random
moments), workers that crash or lose their parent, stale temporary files, and the limits."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from migrator.engine.apply import ConcurrentModification, write_fix
from migrator.engine.fixer import fix_file
from migrator.engine.pool import CRASH_MESSAGE, WorkerPool, run_ordered
from migrator.engine.writer import remove_stale_temp_files
from migrator.output.fixing import apply_results
from migrator.rules.registry import select_rules

CODES = [e.code for e in select_rules()]
LEGACY = "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nprint(r['choices'][0]['message']['content'])\n"


# -- concurrent modification -------------------------------------------------------------------------

def test_file_changed_between_read_and_write_is_not_overwritten(tmp_path):
    path = tmp_path / "a.py"
    path.write_text(LEGACY)
    result = fix_file(str(path), CODES)
    assert result.changed
    edited = LEGACY + "print('edited meanwhile')\n"
    path.write_text(edited)
    with pytest.raises(ConcurrentModification, match="changed on disk"):
        write_fix(result)
    assert path.read_text() == edited
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".migrate-")]

    # apply's loop reports it (exit 2) and goes on with the other files
    other = tmp_path / "b.py"
    other.write_text(LEGACY)
    results = [fix_file(str(path), CODES), fix_file(str(other), CODES)]
    path.write_text(edited + "# again\n")
    lines: list[str] = []
    report = apply_results(results, [], lambda line="", err=False: lines.append(line))
    assert report.exit_code() == 2 and report.written == 1
    assert any("a.py" in line and "changed on disk while it was being migrated" in line for line in lines)
    assert path.read_text() == edited + "# again\n" and "client.chat.completions.create" in other.read_text()


# -- temporary files -----------------------------------------------------------------------------------

def test_stale_temp_files_are_removed_and_never_sources(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    stale = tmp_path / f".migrate-{dead.stdout.strip()}-abc123.tmp"
    stale.write_text(LEGACY)
    live = tmp_path / f".migrate-{os.getpid()}-live12.tmp"  # a run still in progress: left alone
    live.write_text("x")
    scan = run_cli("scan", ".", "--output-format", "json", "--no-cache")
    assert [f["path"] for f in json.loads(scan.stdout)["findings"]] == ["a.py"] * 2
    assert run_cli("scan", stale.name).returncode == 0  # named explicitly: still not a source
    proc = run_cli("apply", ".")
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists() and live.exists()
    assert remove_stale_temp_files([str(tmp_path)]) == []


# -- the worker pool ------------------------------------------------------------------------------------

def _work(n: int) -> int:
    if n == 3:
        os._exit(7)  # what a segfault in a native parser looks like to the pool
    return n * n


def test_a_worker_crash_is_one_files_error():
    pool = WorkerPool(2)
    out = list(run_ordered(pool, _work, [(n,) for n in range(8)], on_crash=lambda item, reason: (item, reason)))
    assert out[:3] == [0, 1, 4] and out[4:] == [16, 25, 36, 49]
    assert out[3] == ((3,), CRASH_MESSAGE)


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_parent_killed_by_sigkill(tmp_path):
    script = (
        "import time, sys\n"
        "from migrator.engine.pool import WorkerPool\n"
        "pool = WorkerPool(2)\n"
        "slots = [pool.submit(time.sleep, 60) for _ in range(2)]\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 10
    while len(_children_of(parent.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children_of(parent.pid)
    assert len(workers) >= 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)]


# -- killed runs ---------------------------------------------------------------------------------------

def _tree(target: Path, copies: int) -> None:
    sources = sorted((FIXTURES / "examples").glob("*.py")) + sorted((FIXTURES / "rewrites").glob("*.before.py"))[:12]
    for copy in range(copies):
        folder = target / f"c{copy:03d}"
        folder.mkdir(parents=True)
        for source in sources:
            shutil.copy(source, folder / source.name.replace(".before", ""))


def _migrate(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "migrator", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _processes_running_in(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(folder).encode() in (entry / "cmdline").read_bytes() and _alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_apply_killed_at_random_moments(tmp_path):
    """SIGKILL and SIGINT at random moments: every file is its original or its complete migration, no
    worker outlives the parent, and the next run cleans up and finishes the job."""
    kills = int(os.environ.get("MIGRATE_FAULT_KILLS", "6"))
    pristine, expected, work = tmp_path / "pristine", tmp_path / "expected", tmp_path / "work"
    _tree(pristine, 10)
    shutil.copytree(pristine, expected)
    started = time.monotonic()
    done = _migrate(["apply", "-j", "2", str(expected)], tmp_path)
    assert done.wait(timeout=600) in (0, 1), done.stderr.read() if done.stderr else ""
    # Kill moments are fractions of how long a whole run takes here and now, so that they land while files
    # are being written on a fast machine and on a loaded one alike.
    whole_run = time.monotonic() - started
    files = sorted(p.relative_to(pristine) for p in pristine.rglob("*.py"))
    assert len(files) >= 200
    shutil.copytree(pristine, work)
    rng = random.Random(int(os.environ.get("MIGRATE_FAULT_SEED", "13")))
    interrupted_midway = 0  # rounds that left some files migrated and others not
    for round_number in range(kills):
        proc = _migrate(["apply", "-j", "2", str(work)], tmp_path)
        time.sleep(rng.uniform(0.2, 0.8) * whole_run)
        sig = signal.SIGKILL if round_number % 2 == 0 else signal.SIGINT
        proc.send_signal(sig)
        proc.wait(timeout=120)
        if sig == signal.SIGINT and proc.stderr is not None:
            assert "Traceback" not in proc.stderr.read()
        deadline = time.monotonic() + 5
        while _processes_running_in(work) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _processes_running_in(work) == [], f"a worker outlived its parent (round {round_number})"
        states = set()
        for rel in files:
            text = (work / rel).read_bytes()
            assert text in ((pristine / rel).read_bytes(), (expected / rel).read_bytes()), f"{rel} is half-migrated"
            if (pristine / rel).read_bytes() != (expected / rel).read_bytes():
                states.add(text == (expected / rel).read_bytes())
        interrupted_midway += states == {True, False}
    assert interrupted_midway, "no kill landed while files were being written: the test proved nothing"
    final = _migrate(["apply", "-j", "2", str(work)], tmp_path)
    assert final.wait(timeout=600) in (0, 1)
    for rel in files:
        assert (work / rel).read_bytes() == (expected / rel).read_bytes(), rel
    assert not list(work.rglob(".migrate-*.tmp"))


def test_scan_survives_a_worker_crash(tmp_path, monkeypatch):
    """A file that kills its worker (simulated) is one error; the rest of its chunk and the run go on."""
    from migrator.engine import runner

    for index in range(40):
        (tmp_path / f"m{index:02d}.py").write_text(LEGACY)
    real = runner._parse_candidate

    def fragile(path, *args, **kwargs):
        if path.endswith("m07.py"):
            os._exit(11)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(runner, "_parse_candidate", fragile)  # inherited by the forked workers
    files = sorted(str(p) for p in tmp_path.glob("*.py"))
    results = list(runner.analyse_paths(files, CODES, jobs=2))
    assert [r.path for r in results] == files
    assert [r.path for r in results if r.error] == [files[7]] and CRASH_MESSAGE in (results[7].error or "")
    assert all(len(r.findings) == 2 for i, r in enumerate(results) if i != 7)
