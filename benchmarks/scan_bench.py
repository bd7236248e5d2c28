"""Benchmark `migrate scan` against `ruff check --select E9` and `rg` on the same trees, in one run.

Trees (all present wherever the test extras are installed):
  sparse  the Python standard library: legacy code is absent, so this measures discovery + pre-filter.
  dense   the installed openai and transformers packages: most files mention openai or from_pretrained.
  legacy  fixtures/examples replicated until every one of ~1,000 files has findings: parser + rules,
          timed with one worker and with all workers.

Usage: python benchmarks/scan_bench.py [--repeat N] [--copies N]
Prints wall time (best of N), MB/s and the ratio to ruff measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"site-packages", "dist-packages", "__pycache__", ".git", "node_modules"}


def tree_megabytes(paths: list[str]) -> tuple[int, float]:
    files, size = 0, 0
    for top in paths:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            for name in filenames:
                if name.endswith(".py"):
                    files += 1
                    size += os.path.getsize(os.path.join(dirpath, name))
    return files, size / 1e6


def best_of(cmd: list[str], repeat: int, ok: tuple[int, ...] = (0, 1)) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode not in ok:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
        best = min(best, elapsed)
    return best


def package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)  # locates without importing
    if spec is None or spec.origin is None:
        raise SystemExit(f"{name} is not installed: pip install -e '.[test]'")
    return os.path.dirname(spec.origin)


def migrate_cmd(paths: list[str], jobs: int | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "migrator", "scan", "-q", "--output-format", "json", *paths]
    return cmd + (["-j", str(jobs)] if jobs else [])


def report(name: str, paths: list[str], repeat: int) -> None:
    files, mb = tree_megabytes(paths)
    print(f"\n[{name}] {files} .py files, {mb:.1f} MB")
    timings = {
        # exit 2 is expected: the stdlib ships deliberately undecodable test files, reported per file
        "migrate scan": best_of(migrate_cmd(paths), repeat, ok=(0, 1, 2)),
        "ruff check --select E9": best_of(["ruff", "check", "--select", "E9", "--no-cache", "--exit-zero", "-q", *paths], repeat),
    }
    if shutil.which("rg"):
        globs = [arg for d in SKIP_DIRS for arg in ("-g", f"!{d}/")]
        timings["rg -c openai"] = best_of(["rg", "-c", "-t", "py", *globs, "openai", *paths], repeat)
    ruff = timings["ruff check --select E9"]
    for tool, seconds in timings.items():
        print(f"  {tool:<24} {seconds:7.3f} s  {mb / seconds:8.1f} MB/s  x{seconds / ruff:5.2f} of ruff")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies", type=int, default=120)
    args = parser.parse_args()
    if not shutil.which("ruff"):
        raise SystemExit("ruff is needed as the reference: pip install ruff")

    print(f"cores: {os.cpu_count()}; best of {args.repeat} runs each")
    report("sparse: stdlib", [sysconfig.get_paths()["stdlib"]], args.repeat)
    report("dense: openai + transformers", [package_dir("openai"), package_dir("transformers")], args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        examples = sorted((ROOT / "fixtures" / "examples").glob("*.py"))
        for copy in range(args.copies):
            target = Path(tmp) / f"copy{copy:04d}"
            target.mkdir()
            for example in examples:
                shutil.copy(example, target / example.name)
        files, mb = tree_megabytes([tmp])
        print(f"\n[legacy: fixtures x{args.copies}] {files} .py files, {mb:.1f} MB, every file has findings")
        for jobs in (1, os.cpu_count() or 1):
            seconds = best_of(migrate_cmd([tmp], jobs), args.repeat)
            print(f"  migrate scan -j {jobs:<3}      {seconds:7.3f} s  {mb / seconds:8.2f} MB/s  {files / seconds:8.1f} files/s")
        ruff = best_of(["ruff", "check", "--select", "E9", "--no-cache", "--exit-zero", "-q", tmp], args.repeat)
        print(f"  ruff check --select E9    {ruff:7.3f} s  {mb / ruff:8.2f} MB/s")


if __name__ == "__main__":
    main()
