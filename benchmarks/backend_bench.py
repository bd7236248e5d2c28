"""The local backend against a bare `model.generate` loop, on a GPT-2-sized random-init model built offline
(12 layers, 768 wide, 12 heads, 50,257-token vocabulary), all measured in one run:

1. overhead: one 64-token greedy answer through `model.generate`, the in-process client and HTTP
   (`migrate serve`); target: in-process under 10%, HTTP under 25% (of the request time);
2. streaming: time to the first content chunk as a share of the whole streamed answer (64 tokens);
   target: under 15%;
3. batching: 16 concurrent requests against the same 16 sent one after another over HTTP (32 tokens
   each); target: at least 2x the throughput on CPU.

Medians over interleaved rounds, with the range. On a machine with CUDA, `--device cuda` (or auto) runs
the model there and the tokens/s lines are the GPU's.

Usage: python benchmarks/backend_bench.py [--rounds 3] [--device auto] [--model-dir DIR (built once, reused)]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPT = "The robot checks the legacy code and explains every token of the answer"
PROMPTS = [f"{s} checks the legacy code, request {i}" for i, s in enumerate(
    ("The robot", "Our server", "A careful user", "The test suite") * 4)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def summary(values: list[float], unit: str = "", scale: float = 1.0) -> str:
    scaled = [v * scale for v in values]
    return f"{statistics.median(scaled):8.2f}{unit} (range {min(scaled):.2f}-{max(scaled):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--batch-tokens", type=int, default=32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model-dir", type=Path, default=None, help="build the model here once and reuse it")
    args = parser.parse_args()

    import httpx2
    import openai
    import torch
    from tiny_models import build_gpt2_sized

    from migrator.runtime.backend import LocalBackend
    from migrator.runtime.client import local_client

    with tempfile.TemporaryDirectory() as tmp:
        path = args.model_dir or Path(tmp) / "gpt2-sized"
        if not (path / "config.json").exists():
            start = time.perf_counter()
            build_gpt2_sized(path)
            print(f"built the GPT-2-sized random model in {time.perf_counter() - start:.1f} s: {path}")
        backend = LocalBackend(str(path), device=args.device)
        backend.load()
        model, tok, device = backend.model, backend.tokenizer, backend.device
        messages = [{"role": "user", "content": PROMPT}]
        prompt_ids = backend.chat_prompt_ids(messages)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "migrator", "serve", "--model", str(path), "--port", str(port),
                                   "--device", args.device], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("migrate serve did not start")
                time.sleep(0.2)
            inproc = local_client(backend=backend)
            http = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0, timeout=600)

            def bare() -> int:
                tensor = torch.tensor([prompt_ids], device=device)
                with torch.inference_mode():
                    out = model.generate(tensor, attention_mask=torch.ones_like(tensor), max_new_tokens=args.tokens,
                                         do_sample=False, pad_token_id=tok.pad_token_id)
                return int(out.shape[1] - len(prompt_ids))

            def through(client: openai.OpenAI) -> Callable[[], int]:
                def run() -> int:
                    reply = client.chat.completions.create(model="gpt-4o", messages=messages, max_tokens=args.tokens,
                                                           temperature=0)
                    return reply.usage.completion_tokens
                return run

            def first_share(client: openai.OpenAI) -> float:
                start = time.perf_counter()
                first = None
                for chunk in client.chat.completions.create(model="gpt-4o", messages=messages, max_tokens=args.tokens,
                                                            temperature=0, stream=True):
                    if first is None and chunk.choices and chunk.choices[0].delta.content:
                        first = time.perf_counter() - start
                return (first or 0.0) / (time.perf_counter() - start)

            def ask(prompt: str) -> int:
                reply = http.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}],
                                                     max_tokens=args.batch_tokens, temperature=0)
                return reply.usage.completion_tokens

            def sequential() -> float:
                start = time.perf_counter()
                tokens = sum(ask(p) for p in PROMPTS)
                return tokens / (time.perf_counter() - start)

            def concurrent() -> float:
                counts: list[int] = []
                threads = [threading.Thread(target=lambda p=p: counts.append(ask(p))) for p in PROMPTS]
                start = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return sum(counts) / (time.perf_counter() - start)

            paths = {"model.generate (bare)": bare, "in-process client": through(inproc), "HTTP (migrate serve)": through(http)}
            for run in paths.values():  # warm up
                run()
            ask(PROMPTS[0])
            rates: dict[str, list[float]] = {name: [] for name in paths}
            shares: dict[str, list[float]] = {"in-process client": [], "HTTP (migrate serve)": []}
            seq_rates: list[float] = []
            con_rates: list[float] = []
            for _ in range(args.rounds):
                for name, run in paths.items():
                    start = time.perf_counter()
                    tokens = run()
                    rates[name].append(tokens / (time.perf_counter() - start))
                shares["in-process client"].append(first_share(inproc))
                shares["HTTP (migrate serve)"].append(first_share(http))
                seq_rates.append(sequential())
                con_rates.append(concurrent())
            batches = httpx2.get(f"http://127.0.0.1:{port}/health").json()["scheduler"]
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"GPT-2-sized random model (12 layers, 768 wide, vocab {len(tok)}) on {device} ({backend.dtype}), "
          f"torch threads {torch.get_num_threads()}, {args.rounds} interleaved rounds: median (range)")
    base = statistics.median(rates["model.generate (bare)"])
    print(f"1. one {args.tokens}-token greedy answer, tokens/s:")
    for name, values in rates.items():
        overhead = 100 * (base / statistics.median(values) - 1)
        print(f"   {name:<24} {summary(values)}   overhead vs bare {overhead:+6.1f}%")
    print(f"2. streamed, first content chunk as a share of the whole {args.tokens}-token answer (target < 15%):")
    for name, values in shares.items():
        print(f"   {name:<24} {summary(values, '%', 100)}")
    ratio = [c / s for c, s in zip(con_rates, seq_rates)]
    print(f"3. {len(PROMPTS)} requests x {args.batch_tokens} tokens over HTTP, tokens/s (target >= 2x):")
    print(f"   {'sequential':<24} {summary(seq_rates)}")
    print(f"   {'concurrent (batched)':<24} {summary(con_rates)}")
    print(f"   {'concurrent / sequential':<24} {summary(ratio, 'x')}   (largest batch {batches['largest_batch']})")


if __name__ == "__main__":
    main()
