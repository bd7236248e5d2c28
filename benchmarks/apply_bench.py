"""Benchmark `migrate apply` on a tree of legacy openai files: MB/s and files/s, one worker and all.

The tree is the rewrite fixtures' "before" files and the bundled examples, replicated; each timed run
starts from a fresh copy. Usage: python benchmarks/apply_bench.py [--copies N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_tree(target: Path, copies: int) -> tuple[int, float]:
    sources = sorted((ROOT / "fixtures" / "rewrites").glob("*.before.py")) + sorted((ROOT / "fixtures" / "examples").glob("*.py"))
    size = 0
    for copy in range(copies):
        folder = target / f"copy{copy:04d}"
        folder.mkdir(parents=True)
        for source in sources:
            shutil.copy(source, folder / source.name.replace(".before", ""))
            size += source.stat().st_size
    return copies * len(sources), size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pristine = Path(tmp) / "pristine"
        files, mb = build_tree(pristine, args.copies)
        print(f"{files} legacy files, {mb:.2f} MB; cores: {os.cpu_count()}; best of {args.repeat}")
        for jobs in (1, os.cpu_count() or 1):
            best = float("inf")
            for run in range(args.repeat):
                work = Path(tmp) / f"work{jobs}-{run}"
                shutil.copytree(pristine, work)
                start = time.perf_counter()
                proc = subprocess.run(check=False, args=[sys.executable, "-m", "migrator", "apply", "-j", str(jobs), str(work)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                best = min(best, time.perf_counter() - start)
                if proc.returncode not in (0, 1):
                    raise SystemExit(proc.stderr[-1000:])
            print(f"  migrate apply -j {jobs:<3} {best:7.2f} s  {mb / best:6.3f} MB/s  {files / best:7.1f} files/s")


if __name__ == "__main__":
    main()
