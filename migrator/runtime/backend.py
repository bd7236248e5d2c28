"""The local model: loaded once per process with the real ``from_pretrained``, decoded by a scheduler.

torch and transformers are imported when the first request needs the model, never at import time.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from migrator.runtime.cache import GenerationCache, cache_from_environment
from migrator.runtime.devices import pick_device, pick_dtype
from migrator.runtime.errors import ApiError
from migrator.runtime.models import local_model_id
from migrator.runtime.scheduler import Delta, Finished, Generation, Job, Sampling, Scheduler

__all__ = ["Generation", "LocalBackend", "ModelUnavailable", "Sampling", "shared_backend"]

# GPT-2 has no chat template; this one renders a conversation as "role: content" lines.
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


class ModelUnavailable(RuntimeError):
    """The model could not be loaded; the message says which and how to provide it."""


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


class LocalBackend:
    """One model and tokenizer on one device. Requests are batched by a :class:`Scheduler`.

    ``max_batch`` rows decode together; at most ``max_queue`` requests wait (more get a 429); a batch
    collects the requests that arrive less than ``batch_window`` seconds after the previous one. Defaults come from
    ``MIGRATE_MAX_BATCH`` (16), ``MIGRATE_MAX_QUEUE`` (64) and ``MIGRATE_BATCH_WINDOW_MS`` (5)."""

    def __init__(self, model_id: str | None = None, device: str | None = None, *, max_batch: int | None = None,
                 max_queue: int | None = None, batch_window: float | None = None,
                 cache: GenerationCache | None = None) -> None:
        self.model_id = model_id or local_model_id()
        self.requested_device = device
        self.device = "cpu"
        self.dtype = "float32"
        self.model_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self.cache = cache if cache is not None else cache_from_environment()
        self.scheduler = Scheduler(
            self,
            max_batch=int(max_batch or _env_number("MIGRATE_MAX_BATCH", 16)),
            max_queue=int(max_queue or _env_number("MIGRATE_MAX_QUEUE", 64)),
            batch_window=batch_window if batch_window is not None else _env_number("MIGRATE_BATCH_WINDOW_MS", 5) / 1000,
        )

    # -- loading ----------------------------------------------------------------------------------
    def load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            try:
                from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise ModelUnavailable(
                    "the local backend needs transformers and torch: pip install 'migrate-llm[runtime]'"
                ) from exc
            try:
                device = pick_device(self.requested_device)
            except ValueError as exc:
                raise ModelUnavailable(str(exc)) from None
            try:
                tokenizer = AutoTokenizer.from_pretrained(self.model_id)
                dtype = pick_dtype(device, AutoConfig.from_pretrained(self.model_id))
                model: Any = AutoModelForCausalLM.from_pretrained(self.model_id, dtype=dtype)
            except (OSError, ValueError) as exc:
                offline = os.environ.get("HF_HUB_OFFLINE") == "1"
                raise ModelUnavailable(
                    f"could not load the local model {self.model_id!r}: "
                    + ("it is not in the Hugging Face cache and HF_HUB_OFFLINE=1 forbids downloading it"
                       if offline else "it could not be found locally or downloaded from the Hugging Face hub")
                    + ". Pass a local directory with --model or MIGRATE_LOCAL_MODEL (any causal LM saved with"
                    " save_pretrained), or run once with network access to cache it."
                    + ("" if offline else " Set HF_HUB_OFFLINE=1 in tests to fail at once instead of retrying.")
                ) from exc
            if tokenizer.chat_template is None:
                tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
            if tokenizer.pad_token_id is None:
                tokenizer.pad_token = tokenizer.eos_token
            model.to(device)
            model.eval()
            self.device, self.dtype = device, str(dtype).removeprefix("torch.")
            self._tokenizer, self._model = tokenizer, model

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tokenizer

    @property
    def model(self) -> Any:
        self.load()
        return self._model

    @property
    def context_length(self) -> int:
        config = self.model.config
        length = getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)
        return int(length or 1024)

    def describe(self) -> dict[str, Any]:
        """What ``/health`` reports: the model, where it runs, and the scheduler's counters."""
        loaded = self._model is not None
        return {"model": self.model_id, "loaded": loaded, "device": self.device if loaded else None,
                "dtype": self.dtype if loaded else None, "scheduler": dict(self.scheduler.stats),
                "cache": None if self.cache is None else {"folder": str(self.cache.folder), "hits": self.cache.hits}}

    # -- text -------------------------------------------------------------------------------------
    def chat_prompt_ids(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> list[int]:
        from jinja2 import TemplateError

        extra = {"tools": tools} if tools else {}
        try:
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **extra)
        except (TemplateError, ValueError) as exc:  # e.g. a template that insists on alternating roles
            raise ApiError(400, f"The chat template of the local model {self.model_id!r} rejected these messages: "
                                f"{exc}", param="messages", code="invalid_value") from None
        return self.encode(str(text))

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text)["input_ids"])

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text)) if text else 0

    # -- generation -------------------------------------------------------------------------------
    def submit(self, prompt_ids: list[int], sampling: Sampling) -> Job:
        """Start generating; iterate the returned job for its events. Raises ``QueueFull``."""
        self.load()
        if self.cache is None:
            return self.scheduler.submit(prompt_ids, sampling)
        cache, key = self.cache, self.cache.key(self.model_id, prompt_ids, sampling)
        recorded = cache.get(key)
        if recorded is None:
            job = self.scheduler.submit(prompt_ids, sampling)
            job.on_complete = lambda rows: cache.put(key, rows)
            return job
        job = Job(prompt_ids, sampling)
        for index, row in enumerate(recorded):
            if row.text:
                job.put(Delta(index, row.text))
            job.put(Finished(index, row.finish_reason, row.completion_tokens))
        job.close()
        return job

    def generate(self, prompt_ids: list[int], sampling: Sampling) -> list[Generation]:
        """``sampling.n`` continuations of ``prompt_ids``, waiting for the end."""
        return self.submit(prompt_ids, sampling).result()

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Mean-pooled, L2-normalised last hidden states, and the number of input tokens."""
        import torch

        model, tokenizer = self.model, self.tokenizer
        vectors, tokens = [], 0
        for text in texts:
            ids = self.encode(text) or [tokenizer.eos_token_id]
            ids = ids[: self.context_length]
            tokens += len(ids)
            with torch.inference_mode(), self.model_lock:
                hidden = model(torch.tensor([ids], device=self.device), output_hidden_states=True).hidden_states[-1][0]
            pooled = hidden.float().mean(dim=0)
            pooled = pooled / pooled.norm().clamp_min(1e-12)
            vectors.append(pooled.tolist())
        return vectors, tokens


_SHARED: dict[tuple[str, str | None], LocalBackend] = {}
_SHARED_LOCK = threading.Lock()


def shared_backend(model_id: str | None = None, device: str | None = None) -> LocalBackend:
    """One backend per model id (and device) and process."""
    key = (model_id or local_model_id(), device)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = LocalBackend(key[0], device)
        return _SHARED[key]
