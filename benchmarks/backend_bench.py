"""Tokens per second of the local backend: in-process client and HTTP (`migrate serve`) against calling
`model.generate` directly, on the same prompts and settings (64-token greedy completions), in one run.

Builds the tiny offline GPT-2 the tests use. Usage: python benchmarks/backend_bench.py [--rounds N]
Targets: in-process overhead under 10%, HTTP under 25%.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPTS = [f"{s} checks the legacy code" for s in ("The robot", "Our server", "A careful user", "The test suite")]
MAX_TOKENS = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import httpx2
    import openai
    import torch
    from tiny_models import build_tiny_gpt2

    from migrator.runtime.backend import LocalBackend
    from migrator.runtime.client import local_client

    with tempfile.TemporaryDirectory() as tmp:
        path = build_tiny_gpt2(Path(tmp) / "tiny-gpt2")
        backend = LocalBackend(str(path))
        tok, model = backend.tokenizer, backend.model
        messages = [[{"role": "user", "content": p}] for p in PROMPTS]
        prompt_ids = [backend.chat_prompt_ids(m) for m in messages]

        def direct() -> int:
            total = 0
            for ids in prompt_ids:
                tensor = torch.tensor([ids])
                with torch.no_grad():
                    out = model.generate(tensor, attention_mask=torch.ones_like(tensor), max_new_tokens=MAX_TOKENS,
                                         do_sample=False, pad_token_id=tok.pad_token_id)
                total += out.shape[1] - len(ids)
            return total

        def through(client) -> int:
            total = 0
            for m in messages:
                reply = client.chat.completions.create(model="gpt-4o", messages=m, max_tokens=MAX_TOKENS, temperature=0)
                total += reply.usage.completion_tokens
            return total

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "migrator", "serve", "--model", str(path), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.1)
            paths = {
                "model.generate (direct)": direct,
                "in-process client": lambda c=local_client(backend=backend): through(c),
                "HTTP (migrate serve)": lambda c=openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x"): through(c),
            }
            for run in paths.values():  # warm up every path once
                run()
            rates: dict[str, float] = {name: 0.0 for name in paths}
            for _ in range(args.rounds):  # interleaved rounds, best rate of each path
                for name, run in paths.items():
                    start = time.perf_counter()
                    tokens = run()
                    rates[name] = max(rates[name], tokens / (time.perf_counter() - start))
        finally:
            server.terminate()
            server.wait(timeout=30)

    base = rates["model.generate (direct)"]
    print(f"{len(PROMPTS)} prompts x {MAX_TOKENS} tokens, greedy, best of {args.rounds} interleaved rounds, torch threads: {torch.get_num_threads()}")
    for name, rate in rates.items():
        print(f"  {name:<26} {rate:8.1f} tokens/s   overhead {100 * (base / rate - 1):+6.1f}%")


if __name__ == "__main__":
    main()
