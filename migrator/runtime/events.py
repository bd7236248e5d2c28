"""What one request's answer is made of, whatever the endpoint: pieces of text or tool calls, then an end.

Every endpoint turns a request into an :class:`Answer` (its generation jobs and one iterator of
:class:`Piece` / :class:`End` events) and renders it either as server-sent events or, by collecting the
same events, as one JSON body: streamed and whole answers cannot drift apart.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from migrator.runtime.scheduler import Delta, Finished, Job
from migrator.runtime.structured import words_of


@dataclass
class ToolCall:
    position: int
    call_id: str
    name: str


@dataclass
class Piece:
    """Text of choice ``index``, or (with ``call``) a piece of that tool call's arguments."""

    index: int
    text: str
    call: ToolCall | None = None


@dataclass
class End:
    index: int
    finish_reason: str  # "stop", "length", "tool_calls" or "function_call"
    completion_tokens: int


@dataclass
class Answer:
    prompt_tokens: int
    events: Iterator[Piece | End]
    jobs: list[Job] = field(default_factory=list)

    def cancel(self) -> None:
        for job in self.jobs:
            job.cancel()


@dataclass
class Choice:
    text: str = ""
    calls: list[tuple[ToolCall, str]] = field(default_factory=list)
    finish_reason: str = "stop"
    completion_tokens: int = 0


def collect(answer: Answer) -> dict[int, Choice]:
    """The whole answer, choice by choice, from its events."""
    choices: dict[int, Choice] = {}
    parts: dict[tuple[int, int], list[str]] = {}
    for event in answer.events:
        choice = choices.setdefault(event.index, Choice())
        if isinstance(event, End):
            choice.finish_reason, choice.completion_tokens = event.finish_reason, event.completion_tokens
        elif event.call is None:
            choice.text += event.text
        else:
            key = (event.index, event.call.position)
            if key not in parts:
                parts[key] = []
                choice.calls.append((event.call, ""))
            parts[key].append(event.text)
    for choice_index, choice in choices.items():
        choice.calls = [(call, "".join(parts[(choice_index, call.position)])) for call, _ in choice.calls]
    return choices


def text_events(job: Job, offset: int = 0, prefix: str = "") -> Iterator[Piece | End]:
    """The model's own text, as it is decoded."""
    started: set[int] = set()
    for event in job:
        if prefix and event.index not in started:
            started.add(event.index)
            yield Piece(event.index + offset, prefix)
        if isinstance(event, Delta):
            yield Piece(event.index + offset, event.text)
        elif isinstance(event, Finished):
            yield End(event.index + offset, event.finish_reason, event.completion_tokens)


def pieces(text: str, encode: Callable[[str], list[int]], decode: Callable[[list[int]], str]) -> list[str]:
    """Split ``text`` into token-sized pieces that join back to exactly ``text``."""
    out, previous = [], ""
    ids = encode(text)
    for end in range(1, len(ids) + 1):
        current = decode(ids[:end])
        if current.startswith(previous) and len(current) > len(previous):
            out.append(current[len(previous):])
            previous = current
    if previous != text:  # a piece split inside a multi-byte character: send the rest at once
        out.append(text.removeprefix(previous))
    return out


def json_events(job: Job, build: Callable[[Any], Any], split: Callable[[str], list[str]],
                count: Callable[[str], int]) -> Iterator[Piece | End]:
    """JSON content built by ``build(words)`` from each choice's model text (``response_format``)."""
    for index, generation in enumerate(job.result()):
        text = json.dumps(build(words_of(generation.text)))
        for part in split(text):
            yield Piece(index, part)
        yield End(index, "stop", count(text))


def tool_events(job: Job, calls: Callable[[Any], list[tuple[str, Any]]], split: Callable[[str], list[str]],
                count: Callable[[str], int], finish_reason: str = "tool_calls") -> Iterator[Piece | End]:
    """Tool calls (name, arguments) chosen by ``calls(words)``, arguments built from the model's text."""
    for index, generation in enumerate(job.result()):
        total = 0
        for position, (name, arguments) in enumerate(calls(words_of(generation.text))):
            call = ToolCall(position, f"call_{uuid.uuid4().hex[:24]}", name)
            text = json.dumps(arguments)
            total += count(text)
            yield Piece(index, "", call)
            for part in split(text):
                yield Piece(index, part, call)
        yield End(index, finish_reason, total)


def chain(*streams: Iterable[Piece | End]) -> Iterator[Piece | End]:
    for stream in streams:
        yield from stream
