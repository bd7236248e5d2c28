"""The local model: loaded once per process with the real ``from_pretrained``, used under a lock.

torch and transformers are imported when the first request needs the model, never at import time.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from migrator.runtime.models import local_model_id

# GPT-2 has no chat template; this one renders a conversation as "role: content" lines.
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


class ModelUnavailable(RuntimeError):
    """The model could not be loaded; the message says which and how to provide it."""


@dataclass
class Generation:
    text: str
    finish_reason: str  # "stop" or "length"
    completion_tokens: int


class LocalBackend:
    """One model and tokenizer. Generation is serialised: a small CPU model gains nothing from running
    two at once, and serialising keeps seeded sampling deterministic."""

    def __init__(self, model_id: str | None = None) -> None:
        self.model_id = model_id or local_model_id()
        self._lock = threading.RLock()
        self._model = None
        self._tokenizer = None

    # -- loading ----------------------------------------------------------------------------------
    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise ModelUnavailable(
                    "the local backend needs transformers and torch: pip install 'migrate-llm[runtime]'"
                ) from exc
            try:
                tokenizer = AutoTokenizer.from_pretrained(self.model_id)
                model = AutoModelForCausalLM.from_pretrained(self.model_id)
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
            model.eval()
            self._tokenizer, self._model = tokenizer, model

    @property
    def tokenizer(self):
        self.load()
        return self._tokenizer

    @property
    def model(self):
        self.load()
        return self._model

    @property
    def context_length(self) -> int:
        config = self.model.config
        return int(getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", 1024))

    # -- text -------------------------------------------------------------------------------------
    def chat_prompt_ids(self, messages: list[dict]) -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.encode(text)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text)["input_ids"])

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text)) if text else 0

    def generate(
        self,
        prompt_ids: list[int],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        n: int,
        stop: list[str],
        seed: int | None,
        repetition_penalty: float,
    ) -> list[Generation]:
        """``n`` continuations of ``prompt_ids``. temperature 0 is greedy; ``seed`` makes sampling repeat.

        Stop sequences are cut from the text (finish_reason "stop"), as OpenAI does."""
        import torch

        with self._lock:
            model, tokenizer = self.model, self.tokenizer
            if seed is not None:
                torch.manual_seed(seed)
            input_ids = torch.tensor([prompt_ids])
            sample = temperature > 0
            kwargs = {
                "max_new_tokens": max_tokens,
                "do_sample": sample,
                "pad_token_id": tokenizer.pad_token_id,
                "attention_mask": torch.ones_like(input_ids),
            }
            if sample:
                kwargs.update(temperature=temperature, top_p=top_p, num_return_sequences=n)
            if repetition_penalty != 1.0:
                kwargs["repetition_penalty"] = repetition_penalty
            with torch.no_grad():
                output = model.generate(input_ids, **kwargs)
            sequences = [row[len(prompt_ids):].tolist() for row in output]
            if not sample:
                sequences = sequences * n  # greedy decoding gives one answer; n copies of it
            results = []
            for ids in sequences:
                eos = tokenizer.eos_token_id
                hit_eos = eos is not None and eos in ids
                if hit_eos:
                    ids = ids[: ids.index(eos)]
                text = tokenizer.decode(ids, skip_special_tokens=True)
                finish = "stop" if hit_eos else "length"
                for marker in stop:
                    cut = text.find(marker) if marker else -1
                    if cut != -1:
                        text, finish = text[:cut], "stop"
                count = self.count_tokens(text) if finish == "stop" and not hit_eos else len(ids)
                results.append(Generation(text=text, finish_reason=finish, completion_tokens=count))
            return results

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Mean-pooled, L2-normalised last hidden states, and the number of input tokens."""
        import torch

        with self._lock:
            model, tokenizer = self.model, self.tokenizer
            vectors, tokens = [], 0
            for text in texts:
                ids = self.encode(text) or [tokenizer.eos_token_id]
                ids = ids[: self.context_length]
                tokens += len(ids)
                with torch.no_grad():
                    hidden = model(torch.tensor([ids]), output_hidden_states=True).hidden_states[-1][0]
                pooled = hidden.mean(dim=0)
                pooled = pooled / pooled.norm().clamp_min(1e-12)
                vectors.append(pooled.tolist())
            return vectors, tokens


_SHARED: dict[str, LocalBackend] = {}
_SHARED_LOCK = threading.Lock()


def shared_backend(model_id: str | None = None) -> LocalBackend:
    """One backend per model id and process."""
    key = model_id or local_model_id()
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = LocalBackend(key)
        return _SHARED[key]
