"""``MIGRATE_BACKEND_CACHE=dir``: record each generation and replay it on the same request.

The key is the normalised request as the model sees it: the model id, the prompt's token ids and every
sampling setting (max_tokens, temperature, top_p, n, stop, seed, repetition penalty). One JSON file per
key (``<sha256>.json``), written atomically, so parallel test workers can share the folder. Unseeded
sampled requests are recorded too: a replay repeats the recorded draw, which makes them deterministic.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from migrator.runtime.scheduler import Generation, Sampling


class GenerationCache:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.hits = 0

    @staticmethod
    def key(model_id: str, prompt_ids: list[int], sampling: Sampling) -> str:
        normal = {"model": model_id, "prompt": prompt_ids, **asdict(sampling), "stop": list(sampling.stop)}
        return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()

    def get(self, key: str) -> list[Generation] | None:
        try:
            items = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            found = [Generation(str(i["text"]), str(i["finish_reason"]), int(i["completion_tokens"])) for i in items]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self.hits += 1
        return found

    def put(self, key: str, generations: list[Generation]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps([asdict(g) for g in generations]).encode()
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.folder / f"{key}.json")
        except OSError:
            Path(tmp).unlink(missing_ok=True)


def cache_from_environment() -> GenerationCache | None:
    folder = os.environ.get("MIGRATE_BACKEND_CACHE")
    return GenerationCache(folder) if folder else None
