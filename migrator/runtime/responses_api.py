"""``POST /v1/responses``: the Responses API over the same model, events and structured-output double.

``input`` is a string or a list of messages (``{"role", "content"}`` with text or ``input_text`` parts)
and items (``function_call``, ``function_call_output``); ``instructions`` becomes the first, system,
message; ``previous_response_id`` continues a response this process answered (the last 256 are kept).
Function tools, ``tool_choice`` and ``text.format`` (``json_object`` / ``json_schema``) behave as on chat
completions. Streaming sends the event sequence the SDK's ``responses.stream(...)`` helper accumulates:
``response.created``, ``response.in_progress``, ``response.output_item.added``,
``response.content_part.added``, ``response.output_text.delta`` ..., ``response.output_text.done``,
``response.content_part.done``, ``response.output_item.done``, ``response.completed`` (function calls:
``response.function_call_arguments.delta``/``.done``). A response cut by the caller's own
``max_output_tokens`` is ``incomplete``, as on the real API.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from migrator.runtime import schemas
from migrator.runtime.errors import ApiError
from migrator.runtime.events import Answer, End, collect, json_events, text_events, tool_events
from migrator.runtime.structured import check_schema, instance, json_object, pick_tools

if TYPE_CHECKING:  # pragma: no cover
    from migrator.runtime.api import ApiResponse, OpenAIApi

_KEEP = 256


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and isinstance(p.get("text", ""), str))
    return ""


class ResponsesEndpoint:
    def __init__(self, api: OpenAIApi) -> None:
        self.api = api
        self._history: OrderedDict[str, list[dict[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    # -- request -> messages ----------------------------------------------------------------------
    def _messages(self, req: schemas.ResponsesRequest) -> list[dict[str, str]]:
        messages: list[dict[str, str]] = []
        if req.previous_response_id is not None:
            with self._lock:
                previous = self._history.get(req.previous_response_id)
            if previous is None:
                raise ApiError(400, f"Previous response with id '{req.previous_response_id}' not found.",
                               param="previous_response_id", code="previous_response_not_found")
            messages.extend(m for m in previous if m["role"] != "system")
        if req.instructions:
            messages.insert(0, {"role": "system", "content": req.instructions})
        items = [{"role": "user", "content": req.input}] if isinstance(req.input, str) else list(req.input or [])
        for index, item in enumerate(items):
            kind = item.get("type", "message")
            if kind == "message" or (kind is None and "role" in item):
                role = item.get("role")
                if role not in ("user", "assistant", "system", "developer"):
                    raise ApiError(400, f"Invalid value: {role!r}. Supported values are: 'assistant', 'system', "
                                        "'developer', and 'user'.", param=f"input[{index}].role", code="invalid_value")
                messages.append({"role": str(role), "content": _text_of(item.get("content"))})
            elif kind == "function_call":
                messages.append({"role": "assistant", "content": f"{item.get('name', '')}({item.get('arguments', '')})"})
            elif kind == "function_call_output":
                output = item.get("output")
                messages.append({"role": "tool", "content": output if isinstance(output, str) else _text_of(output)})
            # other items (reasoning, web search calls, ...) carry nothing a local model can use
        if not any(m["role"] != "system" for m in messages):
            messages.append({"role": "user", "content": ""})
        return messages

    # -- the endpoint -----------------------------------------------------------------------------
    def create(self, body: bytes) -> ApiResponse:
        api = self.api
        req = schemas.parse(schemas.ResponsesRequest, body)
        messages = self._messages(req)
        prompt_ids = api.backend.chat_prompt_ids(messages)
        tools = {t.name: t.parameters for t in req.tools or []}
        choice = req.tool_choice
        forced = choice.name if isinstance(choice, schemas.ResponsesToolChoice) else None
        if forced is not None and forced not in tools:
            raise ApiError(400, f"Tool choice '{forced}' not found in 'tools' parameter.", param="tool_choice",
                           code="invalid_value")
        last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        chosen = pick_tools(list(tools), choice if isinstance(choice, str) else None, forced, last_user,
                            messages[-1]["role"], parallel=req.parallel_tool_calls is not False)
        fmt = req.text.format if req.text is not None else None
        structured = bool(chosen) or (fmt is not None and fmt.type != "text")
        sampling = api.sampling(req, len(prompt_ids), req.max_output_tokens, param="max_output_tokens",
                                filler=structured)
        job = api.submit(prompt_ids, sampling)
        for name in chosen:
            check_schema(tools[name], f"function '{name}'", "tools")
        if structured and not chosen and fmt is not None and fmt.type == "json_schema":
            check_schema(fmt.schema_, f"text.format '{fmt.name}'", "text.format.schema")
        if chosen:
            def calls(words: Any) -> list[tuple[str, Any]]:
                return [(name, instance(tools[name] or {"type": "object", "properties": {}}, words)) for name in chosen]

            events = tool_events(job, calls, api.split, api.backend.count_tokens)
        elif structured and fmt is not None:
            schema = fmt.schema_ or {"type": "object"}
            build = (lambda words: instance(schema, words)) if fmt.type == "json_schema" else json_object
            events = json_events(job, build, api.split, api.backend.count_tokens)
        else:
            events = text_events(job)
        answer = Answer(len(prompt_ids), events, [job])
        shell = self._shell(req, fmt)
        if req.stream:
            return api.stream(answer, self._events(answer, shell, messages, req), done=False)
        output, finish, tokens = self._output(answer)
        return _json_response(self._finish(shell, output, finish, tokens, answer.prompt_tokens, messages, req))

    # -- building the response --------------------------------------------------------------------
    def _shell(self, req: schemas.ResponsesRequest, fmt: schemas.TextFormat | None) -> dict[str, Any]:
        tool_choice: Any = req.tool_choice or "auto"
        if isinstance(tool_choice, schemas.ResponsesToolChoice):
            tool_choice = {"type": "function", "name": tool_choice.name}
        text_format: dict[str, Any] = {"type": "text"}
        if fmt is not None and fmt.type == "json_schema":
            text_format = {"type": "json_schema", "name": fmt.name or "response", "schema": fmt.schema_ or {},
                           "strict": bool(fmt.strict), "description": fmt.description}
        elif fmt is not None:
            text_format = {"type": fmt.type}
        return {
            "id": f"resp_{uuid.uuid4().hex}", "object": "response", "created_at": int(time.time()),
            "status": "in_progress", "background": False, "error": None, "incomplete_details": None,
            "instructions": req.instructions, "max_output_tokens": req.max_output_tokens, "model": req.model,
            "output": [], "parallel_tool_calls": req.parallel_tool_calls is not False,
            "previous_response_id": req.previous_response_id, "reasoning": {"effort": None, "summary": None},
            "store": True, "temperature": 1.0 if req.temperature is None else req.temperature,
            "text": {"format": text_format}, "tool_choice": tool_choice,
            "tools": [{"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters,
                       "strict": t.strict if t.strict is not None else True} for t in req.tools or []],
            "top_p": 1.0 if req.top_p is None else req.top_p, "truncation": "disabled", "usage": None,
            "user": None, "metadata": req.metadata or {},
        }

    @staticmethod
    def _message_item(item_id: str, text: str, status: str) -> dict[str, Any]:
        content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}] if status == "completed" else []
        return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": content}

    @staticmethod
    def _call_item(item_id: str, call: Any, arguments: str, status: str) -> dict[str, Any]:
        return {"type": "function_call", "id": item_id, "call_id": call.call_id, "name": call.name,
                "arguments": arguments, "status": status}

    def _output(self, answer: Answer) -> tuple[list[dict[str, Any]], str, int]:
        choice = collect(answer)[0]
        if choice.calls:
            output = [self._call_item(f"fc_{uuid.uuid4().hex}", call, arguments, "completed")
                      for call, arguments in choice.calls]
        else:
            output = [self._message_item(f"msg_{uuid.uuid4().hex}", choice.text, "completed")]
        return output, choice.finish_reason, choice.completion_tokens

    def _finish(self, shell: dict[str, Any], output: list[dict[str, Any]], finish: str, tokens: int, prompt: int,
                messages: list[dict[str, str]], req: schemas.ResponsesRequest) -> dict[str, Any]:
        cut = finish == "length" and req.max_output_tokens is not None
        text = "".join(part["text"] for item in output if item["type"] == "message" for part in item["content"])
        with self._lock:
            self._history[shell["id"]] = [*messages, {"role": "assistant", "content": text}]
            while len(self._history) > _KEEP:
                self._history.popitem(last=False)
        return {**shell, "status": "incomplete" if cut else "completed", "output": output,
                "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
                "usage": {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                          "output_tokens": tokens, "output_tokens_details": {"reasoning_tokens": 0},
                          "total_tokens": prompt + tokens}}

    def _events(self, answer: Answer, shell: dict[str, Any], messages: list[dict[str, str]],
                req: schemas.ResponsesRequest) -> Iterator[dict[str, Any]]:
        sequence = iter(range(1 << 62))

        def event(kind: str, **fields: Any) -> dict[str, Any]:
            return {"type": kind, "sequence_number": next(sequence), **fields}

        yield event("response.created", response=shell)
        yield event("response.in_progress", response=shell)
        output: list[dict[str, Any]] = []
        message_id: str | None = None
        text = ""
        open_call: tuple[Any, str, str] | None = None  # (call, item id, arguments so far)
        finish, tokens = "stop", 0

        def open_message(message_id: str) -> Iterator[dict[str, Any]]:
            """The events that start the assistant's message (its item, then its empty text part)."""
            yield event("response.output_item.added", output_index=0,
                        item=self._message_item(message_id, "", "in_progress"))
            yield event("response.content_part.added", item_id=message_id, output_index=0, content_index=0,
                        part={"type": "output_text", "text": "", "annotations": [], "logprobs": []})

        def close_call() -> Iterator[dict[str, Any]]:
            nonlocal open_call
            if open_call is not None:
                call, item_id, arguments = open_call
                item = self._call_item(item_id, call, arguments, "completed")
                yield event("response.function_call_arguments.done", item_id=item_id, output_index=len(output),
                            arguments=arguments, name=call.name)
                yield event("response.output_item.done", output_index=len(output), item=item)
                output.append(item)
                open_call = None

        for piece in answer.events:
            if isinstance(piece, End):
                finish, tokens = piece.finish_reason, piece.completion_tokens
                continue
            if piece.call is not None:
                if open_call is None or open_call[0].call_id != piece.call.call_id:
                    yield from close_call()
                    item_id = f"fc_{uuid.uuid4().hex}"
                    open_call = (piece.call, item_id, "")
                    yield event("response.output_item.added", output_index=len(output),
                                item=self._call_item(item_id, piece.call, "", "in_progress"))
                if piece.text:
                    call, item_id, arguments = open_call
                    open_call = (call, item_id, arguments + piece.text)
                    yield event("response.function_call_arguments.delta", item_id=item_id, output_index=len(output),
                                delta=piece.text)
                continue
            if message_id is None:
                message_id = f"msg_{uuid.uuid4().hex}"
                yield from open_message(message_id)
            text += piece.text
            yield event("response.output_text.delta", item_id=message_id, output_index=0, content_index=0,
                        delta=piece.text, logprobs=[])
        yield from close_call()
        if not output:
            if message_id is None:
                message_id = f"msg_{uuid.uuid4().hex}"
                yield from open_message(message_id)
            part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
            item = self._message_item(message_id, text, "completed")
            yield event("response.output_text.done", item_id=message_id, output_index=0, content_index=0, text=text,
                        logprobs=[])
            yield event("response.content_part.done", item_id=message_id, output_index=0, content_index=0, part=part)
            yield event("response.output_item.done", output_index=0, item=item)
            output.append(item)
        final = self._finish(shell, output, finish, tokens, answer.prompt_tokens, messages, req)
        yield event("response.incomplete" if final["status"] == "incomplete" else "response.completed", response=final)


def _json_response(payload: dict[str, Any]) -> ApiResponse:
    from migrator.runtime.api import ApiResponse

    return ApiResponse(200, json.dumps(payload).encode())
