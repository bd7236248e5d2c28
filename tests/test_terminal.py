"""Behaviour on a terminal (a real pseudo-terminal): progress with an ETA, and interactive apply."""

import os
import pty
import re
import select
import subprocess
import sys
import time

from conftest import ROOT

LEGACY = "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\n"


def run_in_pty(args, cwd, answers=(), timeout=120):
    """Run `python -m migrator ARGS` attached to a pty; type ``answers`` at each prompt."""
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "migrator", *args], cwd=cwd, stdin=follower, stdout=follower,
                            stderr=follower, env=env, close_fds=True)
    os.close(follower)
    output, pending, deadline = b"", list(answers), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if pending and output.rstrip().endswith(b"[q]uit:"):
                os.write(leader, pending.pop(0).encode() + b"\n")
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    return proc.returncode, output.decode(errors="replace")


def test_progress_bar_only_on_a_terminal(tmp_path, run_cli):
    for i in range(80):
        (tmp_path / f"m{i:03d}.py").write_text(LEGACY if i % 10 == 0 else "x = 1\n")
    code, output = run_in_pty(["scan", "."], tmp_path)
    assert code == 1 and "Scanning" in output and "ETA" in output and "80/80" in output
    piped = run_cli("scan", ".")
    assert "ETA" not in piped.stderr + piped.stdout
    _, quiet = run_in_pty(["scan", "-q", "."], tmp_path)
    assert "ETA" not in quiet


def test_verbose_names_slow_files(tmp_path, run_cli):
    body = "import openai\n" + "".join(f"r{i} = openai.ChatCompletion.create(model='m', messages=[{i}])\n" for i in range(1500))
    (tmp_path / "big.py").write_text(body)
    proc = run_cli("scan", "-v", "-q", ".")
    assert "slow: big.py:" in proc.stderr


def test_interactive_apply(tmp_path, run_cli):
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text(LEGACY)
    code, output = run_in_pty(["apply", "--interactive", "."], tmp_path, answers=["y", "n", "q"])
    assert "\x1b[32m+" in output  # the diff is coloured on a terminal
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    assert output.count("[q]uit") == 3, output
    assert "client.chat.completions.create" in (tmp_path / "a.py").read_text()
    assert (tmp_path / "b.py").read_text() == LEGACY and (tmp_path / "c.py").read_text() == LEGACY
    assert code == 1 and "b.py:2:5: OAI101" in output
    piped = run_cli("apply", "--interactive", ".")
    assert piped.returncode == 2 and "--interactive needs a terminal" in piped.stderr
