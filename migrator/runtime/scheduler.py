"""Dynamic batching with token streaming: one thread owns the model's decoding loop.

Requests are queued as :class:`Job` objects. The scheduler thread takes the first waiting job, collects
whatever else arrives less than ``batch_window`` seconds after the previous arrival (for at most ten
windows, up to ``max_batch`` rows), left-pads the prompts and
decodes them together with a key/value cache, one token per step. Each row has its own ``max_tokens``,
stop strings, temperature, top-p, repetition penalty and random generator; its text leaves as soon as it is
decoded (held back only while it could still be the start of a stop string). A cancelled job (a client
that went away) stops taking part at the next step; the batch ends when every row is done.

Determinism: greedy rows are the argmax of the same logits whether batched or not (padding is masked and
positions count real tokens only), and a seeded job samples from its own ``torch.Generator``, so other
requests in the batch never change its draws. Float rounding can differ between batch shapes, so two
nearly tied tokens could in principle come out differently; the tests compare batched and unbatched text.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from migrator.runtime.backend import LocalBackend


class QueueFull(RuntimeError):
    """More requests are waiting than the server accepts; the caller should retry later."""


@dataclass(frozen=True)
class Sampling:
    """How one request is decoded. ``temperature`` 0 is greedy; ``n`` rows share one seeded generator."""

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    repetition_penalty: float = 1.0

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0

    @property
    def rows(self) -> int:
        """Greedy decoding gives one answer, so ``n`` greedy choices are one row, copied."""
        return 1 if self.greedy else self.n


@dataclass
class Delta:
    index: int
    text: str


@dataclass
class Finished:
    index: int
    finish_reason: str  # "stop" or "length"
    completion_tokens: int


@dataclass
class Generation:
    text: str
    finish_reason: str
    completion_tokens: int


_END = object()


class Job:
    """One request's generation: iterate it for :class:`Delta` / :class:`Finished` events, in order."""

    def __init__(self, prompt_ids: list[int], sampling: Sampling) -> None:
        self.prompt_ids = list(prompt_ids)
        self.sampling = sampling
        self._events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._cancelled = threading.Event()
        self.generated_tokens = 0  # decoded so far, over all rows
        self.on_complete: Callable[[list[Generation]], None] | None = None
        self._texts: dict[int, list[str]] = {}
        self._finished: dict[int, Finished] = {}

    # -- producer side (the scheduler thread) -----------------------------------------------------
    def put(self, event: Delta | Finished) -> None:
        if isinstance(event, Delta):
            self._texts.setdefault(event.index, []).append(event.text)
        else:
            self._finished[event.index] = event
        self._events.put(event)

    def close(self, error: BaseException | None = None) -> None:
        """End the event stream; a job that ran to its end reports its rows to ``on_complete``."""
        if error is None and self.on_complete is not None and not self.cancelled and self._finished:
            self.on_complete(_collect(self._texts, self._finished))
        self._events.put(error if error is not None else _END)

    # -- consumer side ----------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop generating for this job at the scheduler's next step, and end its event stream now."""
        if not self._cancelled.is_set():
            self._cancelled.set()
            self._events.put(_END)

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def __iter__(self) -> Iterator[Delta | Finished]:
        copies = self.sampling.n if self.sampling.greedy else 1  # n greedy choices: one row, sent n times
        while True:
            event = self._events.get()
            if event is _END:
                return
            if isinstance(event, BaseException):
                raise event
            if copies == 1:
                yield event
                continue
            for index in range(copies):
                yield replace(event, index=index)

    def result(self) -> list[Generation]:
        """Wait for the end and return one :class:`Generation` per choice (``n`` of them)."""
        texts: dict[int, list[str]] = {}
        done: dict[int, Finished] = {}
        for event in self:
            if isinstance(event, Delta):
                texts.setdefault(event.index, []).append(event.text)
            else:
                done[event.index] = event
        return _collect(texts, done)


def _collect(texts: dict[int, list[str]], done: dict[int, Finished]) -> list[Generation]:
    return [Generation("".join(texts.get(i, [])), done[i].finish_reason, done[i].completion_tokens)
            for i in sorted(done)]


@dataclass
class _Row:
    job: Job
    index: int
    generator: Any
    ids: list[int] = field(default_factory=list)
    emitted: int = 0  # characters of the decoded text already sent
    done: bool = False


def _forward_names(model: Any) -> tuple[str, dict[str, Any]]:
    """transformers 5 calls the key/value cache ``cache`` (4.x: ``past_key_values``); ``logits_to_keep``
    skips the vocabulary projection of every prompt position but the last."""
    import inspect

    params = inspect.signature(model.forward).parameters
    cache_name = "cache" if "cache" in params else "past_key_values"
    return cache_name, ({"logits_to_keep": 1} if "logits_to_keep" in params else {})


class Scheduler:
    """Owns the decoding loop of ``backend``'s model in one daemon thread."""

    def __init__(self, backend: LocalBackend, max_batch: int = 16, max_queue: int = 64,
                 batch_window: float = 0.005) -> None:
        self.backend = backend
        self.max_batch = max(1, max_batch)
        self.max_queue = max(1, max_queue)
        self.batch_window = max(0.0, batch_window)
        self._queue: queue.Queue[Job] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stats = {"waiting": 0, "running": 0, "batches": 0, "completed": 0, "cancelled": 0, "largest_batch": 0}

    def submit(self, prompt_ids: list[int], sampling: Sampling) -> Job:
        """Queue a job; raises :class:`QueueFull` when ``max_queue`` jobs are already waiting."""
        job = Job(prompt_ids, sampling)
        with self._lock:
            if self.stats["waiting"] >= self.max_queue:
                raise QueueFull(f"{self.stats['waiting']} requests are already waiting for the local model")
            self.stats["waiting"] += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="migrate-llm-scheduler", daemon=True)
                self._thread.start()
        self._queue.put(job)
        return job

    # -- the scheduler thread ---------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            rows = batch[0].sampling.rows
            # Debounce: each arrival gives the next one ``batch_window`` more, up to ten windows in all,
            # so a burst of requests that trickles in over HTTP still starts as one batch.
            start = time.monotonic()
            deadline = start + self.batch_window
            while rows < self.max_batch:
                try:
                    job = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                batch.append(job)
                rows += job.sampling.rows
                deadline = min(start + 10 * self.batch_window, time.monotonic() + self.batch_window)
            with self._lock:
                self.stats["waiting"] -= len(batch)
                self.stats["running"] = len(batch)
                self.stats["batches"] += 1
                self.stats["largest_batch"] = max(self.stats["largest_batch"], len(batch))
            try:
                self._decode(batch)
                for job in batch:
                    job.close()
            except BaseException as exc:  # noqa: BLE001 - every waiting caller must hear of the failure
                for job in batch:
                    job.close(exc)
            finally:
                with self._lock:
                    self.stats["running"] = 0
                    for job in batch:
                        self.stats["cancelled" if job.cancelled else "completed"] += 1

    def _decode(self, jobs: list[Job]) -> None:
        import torch

        backend = self.backend
        model, tokenizer, device = backend.model, backend.tokenizer, backend.device
        rows: list[_Row] = []
        for job in jobs:
            generator = None
            if not job.sampling.greedy:
                generator = torch.Generator(device=device)
                seed = job.sampling.seed if job.sampling.seed is not None else secrets.randbits(63)
                generator.manual_seed(seed & 0xFFFF_FFFF_FFFF_FFFF)  # torch takes 64 bits
            rows.extend(_Row(job, k, generator) for k in range(job.sampling.rows))
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        width = max(len(row.job.prompt_ids) for row in rows)
        input_ids = torch.tensor([[pad] * (width - len(r.job.prompt_ids)) + r.job.prompt_ids for r in rows],
                                 device=device)
        mask = torch.tensor([[0] * (width - len(r.job.prompt_ids)) + [1] * len(r.job.prompt_ids) for r in rows],
                            device=device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        steps = max(row.job.sampling.max_tokens for row in rows)
        eos = tokenizer.eos_token_id
        cache_name, extra = _forward_names(model)
        cache = None
        with torch.inference_mode():
            for step in range(steps):
                with backend.model_lock:
                    out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                                use_cache=True, **{cache_name: cache}, **extra)
                cache = getattr(out, cache_name)
                logits = out.logits[:, -1, :].float()
                chosen = self._choose(logits, rows)
                for row, token in zip(rows, chosen):
                    if row.done:
                        continue
                    if row.job.cancelled:
                        row.done = True
                        continue
                    self._advance(row, token, eos, step + 1)
                if all(row.done for row in rows):
                    break
                input_ids = torch.tensor([[t if not r.done else pad] for r, t in zip(rows, chosen)], device=device)
                mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=mask.dtype, device=device)], dim=1)
                positions = positions[:, -1:] + 1

    def _choose(self, logits: Any, rows: list[_Row]) -> list[int]:
        """The next token of every row: penalty, then greedy or temperature / top-p sampling."""
        import torch

        for i, row in enumerate(rows):
            penalty = row.job.sampling.repetition_penalty
            if penalty != 1.0 and not row.done:
                seen = torch.tensor(sorted(set(row.job.prompt_ids + row.ids)), device=logits.device)
                scores = logits[i, seen]
                logits[i, seen] = torch.where(scores < 0, scores * penalty, scores / penalty)
        chosen = logits.argmax(dim=-1).tolist()
        by_job: dict[int, list[int]] = {}
        for i, row in enumerate(rows):
            if not row.job.sampling.greedy and not row.done:
                by_job.setdefault(id(row.job), []).append(i)
        for indices in by_job.values():
            sampling = rows[indices[0]].job.sampling
            rows_logits = logits[indices]
            # shift before dividing: a tiny temperature must give the argmax, not inf - inf = nan
            shifted = rows_logits - rows_logits.max(dim=-1, keepdim=True).values
            probs = torch.softmax(shifted / max(sampling.temperature, 1e-6), dim=-1)  # 1e-300 is 0 in float32
            if sampling.top_p < 1.0:
                ordered, order = probs.sort(dim=-1, descending=True)
                # keep the smallest prefix whose mass reaches top_p (always at least the top token)
                drop = ordered.cumsum(dim=-1) - ordered >= sampling.top_p
                drop[..., 0] = False
                ordered[drop] = 0.0
                probs = torch.zeros_like(probs).scatter(-1, order, ordered)
            picks = torch.multinomial(probs, 1, generator=rows[indices[0]].generator).view(-1).tolist()
            for i, token in zip(indices, picks):
                chosen[i] = token
        return chosen

    def _advance(self, row: _Row, token: int, eos: int | None, step: int) -> None:
        sampling = row.job.sampling
        if eos is not None and token == eos:
            self._finish(row, self._text(row), "stop", len(row.ids))
            return
        row.ids.append(token)
        row.job.generated_tokens += 1
        text = self._text(row)
        for marker in sampling.stop:
            cut = text.find(marker, max(0, row.emitted - len(marker)))
            if marker and cut != -1:
                self._finish(row, text[:cut], "stop", len(row.ids))
                return
        if len(row.ids) >= sampling.max_tokens:
            self._finish(row, text, "length", len(row.ids))
            return
        safe = len(text.rstrip("\ufffd"))  # an unfinished multi-byte character waits for its next token
        if sampling.stop:
            safe = min(safe, len(text) - max(len(m) for m in sampling.stop) + 1)
        if safe > row.emitted:
            row.job.put(Delta(row.index, text[row.emitted:safe]))
            row.emitted = safe

    def _text(self, row: _Row) -> str:
        return str(self.backend.tokenizer.decode(row.ids, skip_special_tokens=True))

    @staticmethod
    def _finish(row: _Row, text: str, reason: str, tokens: int) -> None:
        if len(text) > row.emitted:
            row.job.put(Delta(row.index, text[row.emitted:]))
        row.emitted = len(text)
        row.done = True
        row.job.put(Finished(row.index, reason, tokens))
