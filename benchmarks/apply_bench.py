"""Benchmark `migrate diff`/`apply` against `migrate scan` on the same tree, in one run.

Trees:
  legacy  fixtures/examples replicated (every file has findings): `diff -j 1` files/s (target: at least
          40 files/s per worker) and its ratio to `scan -j 1` (target: at most 3x), CPU seconds of the
          whole process, median and min-max over the runs.
  dense   a copy of the installed openai + transformers packages: `apply` with all workers, its wall time
          and the peak memory of the largest migrate process (writes stream, so it stays bounded).

Usage: python benchmarks/apply_bench.py [--copies N] [--repeat N]
The machine may be shared: read ratios measured in the same run, not absolute times.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_FILES_PER_SECOND = 40.0
TARGET_RATIO_TO_SCAN = 3.0


def build_tree(target: Path, copies: int) -> tuple[int, float]:
    sources = sorted((ROOT / "fixtures" / "examples").glob("*.py"))
    size = 0
    for copy in range(copies):
        folder = target / f"copy{copy:04d}"
        folder.mkdir(parents=True)
        for source in sources:
            shutil.copy(source, folder / source.name)
            size += source.stat().st_size
    return copies * len(sources), size / 1e6


def run(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the process and its workers) of `migrate ARGS`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "migrator", *args], check=False, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(proc.stderr[-1000:])
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} s (min {min(values):.2f}, max {max(values):.2f})"


def package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{name} is not installed: pip install -e '.[test]'")
    return os.path.dirname(spec.origin)


def analyses_per_file() -> str:
    """How many passes (parse + analysis) each legacy fixture takes to migrate: one when the first pass
    fixes everything, two when report-only findings remain (the second pass is their report)."""
    sys.path.insert(0, str(ROOT))
    from collections import Counter

    from migrator.engine import analysis, fixer
    from migrator.rules.registry import select_rules

    codes = [e.code for e in select_rules()]
    calls: Counter[str] = Counter()
    original = analysis.analyse

    def counted(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls[path] += 1
        return original(path, *args, **kwargs)

    analysis.analyse = counted  # type: ignore[assignment]
    sources = sorted((ROOT / "fixtures" / "examples").glob("*.py")) + sorted((ROOT / "fixtures" / "rewrites").glob("*.before.py"))
    for source in sources:
        fixer.fix_text(str(source), source.read_text(), codes)
    analysis.analyse = original  # type: ignore[assignment]
    spread_ = Counter(calls[str(source)] for source in sources)
    return ", ".join(f"{count} file(s) with {n}" for n, count in sorted(spread_.items())) + f" (of {len(sources)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-dense", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "legacy"
        files, mb = build_tree(tree, args.copies)
        print(f"[legacy] {files} files, {mb:.2f} MB; cores: {os.cpu_count()}; {args.repeat} runs each, interleaved")
        timings: dict[str, list[tuple[float, float]]] = {"scan": [], "diff": []}
        for _ in range(args.repeat):  # interleaved, so load from other processes hits both alike
            timings["scan"].append(run(["scan", "-q", "-j", "1", "--no-cache", "--exit-zero", str(tree)]))
            timings["diff"].append(run(["diff", "-j", "1", "--exit-zero", str(tree)]))
        for name, values in timings.items():
            cpu = [c for _, c in values]
            print(f"  migrate {name} -j 1  wall {spread([w for w, _ in values])}  cpu {spread(cpu)}"
                  f"  {files / statistics.median(cpu):6.1f} files/s of CPU")
        ratios = [d[1] / s[1] for s, d in zip(timings["scan"], timings["diff"])]
        rate = files / statistics.median([c for _, c in timings["diff"]])
        print(f"  diff files/s per worker: {rate:.1f} (target >= {TARGET_FILES_PER_SECOND:g})"
              f" {'met' if rate >= TARGET_FILES_PER_SECOND else 'NOT met'}")
        print(f"  diff / scan (CPU): median {statistics.median(ratios):.2f}x, min {min(ratios):.2f}x, max "
              f"{max(ratios):.2f}x (target <= {TARGET_RATIO_TO_SCAN:g}x)"
              f" {'met' if statistics.median(ratios) <= TARGET_RATIO_TO_SCAN else 'NOT met'}")

        print(f"  analyses per file, example and rewrite fixtures: {analyses_per_file()}")

        if args.skip_dense:
            return
        dense = Path(tmp) / "dense"
        for name in ("openai", "transformers"):
            shutil.copytree(package_dir(name), dense / name, ignore=shutil.ignore_patterns("__pycache__"))
        wall, cpu = run(["apply", "--exit-zero", str(dense)])
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KB on Linux
        print(f"\n[dense: copy of openai + transformers] apply: wall {wall:.2f} s, cpu {cpu:.2f} s, "
              f"peak memory of the largest process {peak:.0f} MB")


if __name__ == "__main__":
    main()
