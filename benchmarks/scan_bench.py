"""Benchmark `migrate scan` against `ruff check --select E9` and `rg` on the same trees, in one run.

Trees (all present wherever the test extras are installed):
  sparse  the Python standard library: legacy code is absent, so this measures discovery + pre-filter.
  dense   the installed openai and transformers packages: most files mention openai or from_pretrained.
  legacy  fixtures/examples replicated until every one of ~1,000 files has findings: parser + rules,
          timed with one worker and with all workers.

Usage: python benchmarks/scan_bench.py [--repeat N] [--copies N]
Prints wall time (median and min-max of N interleaved runs), MB/s, the ratio to ruff measured in the same
run next to its target, the peak memory of the dense scan, and a second scan that the result cache
answers (target: at most 20% of the first).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
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


TARGETS = {"sparse": 1.0, "dense": 3.0}  # migrate / ruff
CACHE_TARGET = 0.20  # second scan / first scan


def timed(cmd: list[str], ok: tuple[int, ...] = (0, 1), cwd: str | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return elapsed


def best_of(cmd: list[str], repeat: int, ok: tuple[int, ...] = (0, 1)) -> float:
    return min(timed(cmd, ok) for _ in range(repeat))


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)  # locates without importing
    if spec is None or spec.origin is None:
        raise SystemExit(f"{name} is not installed: pip install -e '.[test]'")
    return os.path.dirname(spec.origin)


def migrate_cmd(paths: list[str], jobs: int | None = None, cache: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "migrator", "scan", "-q", "--output-format", "json", *paths]
    return cmd + (["-j", str(jobs)] if jobs else []) + ([] if cache else ["--no-cache"])


def report(name: str, paths: list[str], repeat: int) -> None:
    files, mb = tree_megabytes(paths)
    kind = name.split(":")[0]
    print(f"\n[{name}] {files} .py files, {mb:.1f} MB")
    ruff_cmd = ["ruff", "check", "--select", "E9", "--no-cache", "--exit-zero", "-q", *paths]
    runs: dict[str, list[float]] = {"migrate scan": [], "ruff check --select E9": []}
    ratios = []
    for _ in range(repeat):  # interleaved: load from other processes hits both tools alike
        # exit 2 is expected: the stdlib ships deliberately undecodable test files, reported per file
        ours = timed(migrate_cmd(paths), ok=(0, 1, 2))
        ruff = timed(ruff_cmd)
        runs["migrate scan"].append(ours)
        runs["ruff check --select E9"].append(ruff)
        ratios.append(ours / ruff)
    if shutil.which("rg"):
        globs = [arg for d in SKIP_DIRS for arg in ("-g", f"!{d}/")]
        runs["rg -c openai"] = [timed(["rg", "-c", "-t", "py", *globs, "openai", *paths], ok=(0, 1)) for _ in range(repeat)]
    for tool, seconds in runs.items():
        print(f"  {tool:<24} {spread(seconds)}  {mb / statistics.median(seconds):8.1f} MB/s")
    target = TARGETS[kind]
    ratio = statistics.median(ratios)
    print(f"  migrate / ruff: median {ratio:.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x); "
          f"target <= {target:g}x: {'met' if ratio <= target else 'NOT met'}")
    if kind == "dense":
        proc = subprocess.run(migrate_cmd(paths), check=False, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        parsed = json.loads(proc.stdout)["summary"]["files_parsed"]
        print(f"  files parsed by libcst after the pre-filter: {parsed} of {files}")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        with tempfile.TemporaryDirectory() as cwd:  # the cache lives in the working directory
            first = timed(migrate_cmd(paths, cache=True), ok=(0, 1, 2), cwd=cwd)
            second = [timed(migrate_cmd(paths, cache=True), ok=(0, 1, 2), cwd=cwd) for _ in range(repeat)]
        peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        share = statistics.median(second) / first
        print(f"  with the result cache: first {first:.3f} s, unchanged tree again {spread(second)} = "
              f"{100 * share:.0f}% of the first; target <= {100 * CACHE_TARGET:.0f}%: "
              f"{'met' if share <= CACHE_TARGET else 'NOT met'}")
        print(f"  peak memory of the largest migrate process: {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies", type=int, default=120)
    args = parser.parse_args()
    if not shutil.which("ruff"):
        raise SystemExit("ruff is needed as the reference: pip install ruff")

    print(f"cores: {os.cpu_count()}; {args.repeat} interleaved runs each")
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
