"""OAI401: per-call keyword arguments of v0 methods that the current SDK rejects."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.openai_v0.catalog import is_legacy_api_call
from migrator.rules.openai_v0.clients import client_plan
from migrator.rules.openai_v0.rewrite import keyword, rename_keyword, replace_root, without_args
from migrator.rules.types import FixSafety

RENAMES = {"request_timeout": "timeout", "headers": "extra_headers", "engine": "model", "deployment_id": "model"}
CREDENTIALS = {"api_key": "api_key", "api_base": "base_url", "organization": "organization"}


def _request_id(call: cst.Call) -> cst.Call:
    """Move ``request_id=`` into ``extra_headers`` (merged with headers already passed)."""
    request = next(a for a in call.args if a.keyword is not None and a.keyword.value == "request_id")
    header = cst.DictElement(cst.SimpleString('"X-Request-Id"'), request.value)
    args = without_args(call, [request])
    existing = next((a for a in args if a.keyword is not None and a.keyword.value in ("extra_headers", "headers")), None)
    if existing is None:
        if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(keyword("extra_headers", cst.Dict([header])))
        return call.with_changes(args=args)
    value = existing.value
    if isinstance(value, cst.Dict):
        elements = list(value.elements)
        if elements and elements[-1].comma is cst.MaybeSentinel.DEFAULT:
            elements[-1] = elements[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        merged = value.with_changes(elements=[*elements, header])
    else:
        merged = cst.Dict([cst.StarredDictElement(value), header])
    return call.with_changes(
        args=[a.with_changes(value=merged, keyword=cst.Name("extra_headers")) if a is existing else a for a in args]
    )


def _with_options(call: cst.Call, client: str) -> cst.Call:
    """``client.x.create(api_key=k, ...)`` -> ``client.with_options(api_key=k).x.create(...)``."""
    moved = [a for a in call.args if a.keyword is not None and a.keyword.value in CREDENTIALS]
    if not moved:
        return call
    options = [keyword(CREDENTIALS[a.keyword.value], a.value) for a in moved]  # type: ignore[union-attr]
    options = [
        o.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if i < len(options) - 1 else o
        for i, o in enumerate(options)
    ]
    holder = cst.Call(func=cst.Attribute(value=cst.Name(client), attr=cst.Name("with_options")), args=options)
    func = replace_root(call.func, client, lambda _name: holder)
    if func is None:
        return call
    return call.with_changes(func=func, args=without_args(call, moved))


# keyword -> (what to do, fix safety)
LEGACY_KWARGS: dict[str, tuple[str, FixSafety]] = {
    "request_timeout": ("use `timeout=`", FixSafety.SAFE),
    "headers": ("use `extra_headers=`", FixSafety.SAFE),
    "request_id": ('send it as `extra_headers={"X-Request-Id": ...}`', FixSafety.SAFE),
    "engine": ("use `model=` (on Azure: the deployment name)", FixSafety.SAFE),
    "deployment_id": ("use `model=` (on Azure: the deployment name)", FixSafety.SAFE),
    "api_key": ("use `client.with_options(api_key=...)` or a separate client", FixSafety.SAFE),
    "api_base": ("use `client.with_options(base_url=...)` or a separate client", FixSafety.SAFE),
    "organization": ("use `client.with_options(organization=...)` or a separate client", FixSafety.SAFE),
    "api_type": ("build an `AzureOpenAI` client for this call instead", FixSafety.REPORT),
    "api_version": ("pass `api_version=` to an `AzureOpenAI` client instead", FixSafety.REPORT),
}


def legacy_is_async(ctx, call: cst.Call) -> bool:
    from migrator.rules.openai_v0.catalog import current_method, legacy_call

    found = legacy_call(ctx, call)
    target = current_method(*found) if found else None
    return bool(target and target[1])


class LegacyCallArgument(Rule):
    """## What it does
    Finds keyword arguments of v0 resource calls that current methods reject: `request_timeout`,
    `headers`, `request_id`, `engine`, `deployment_id`, `api_key`, `api_base`, `organization`,
    `api_type` and `api_version`.

    ## Why is this bad?
    Each raises `TypeError: Completions.create() got an unexpected keyword argument '...'` once the
    call is moved to a client.

    ## Example
    ```python
    openai.ChatCompletion.create(engine="gpt4-deploy", messages=m, request_timeout=30)
    ```

    Use instead:
    ```python
    client.chat.completions.create(model="gpt4-deploy", messages=m, timeout=30)
    ```

    ## Fix safety
    Safe for `request_timeout`, `headers`, `request_id`, `engine`, `deployment_id` and the
    per-call credentials (moved into `client.with_options(...)`); `api_type` and `api_version` are
    report-only, since they need a differently built client.
    """

    valid = (
        "from openai import OpenAI\nOpenAI().chat.completions.create(model='m', messages=[], timeout=30)",
        "import openai\nopenai.ChatCompletion.create(model='m', messages=[], temperature=0)",
        "import requests\nrequests.get(url, headers={}, timeout=3)",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "import openai\nopenai.ChatCompletion.create(model='m', messages=[], request_timeout=30)",
            fixed="from openai import OpenAI\n\nclient = OpenAI()\nclient.chat.completions.create(model='m', messages=[], timeout=30)",
        ),
        Invalid(
            "import openai\nopenai.ChatCompletion.create(messages=[], engine='d', api_key=k, request_id='r1')",
            3,
            fixed="from openai import OpenAI\n\nclient = OpenAI()\n"
            "client.with_options(api_key=k).chat.completions.create(messages=[], model='d', extra_headers={\"X-Request-Id\": 'r1'})",
        ),
        Invalid("import openai\nopenai.Completion.create(engine='davinci', prompt='p', headers={'a': 'b'})", 2),
        Invalid(
            "import openai\nopenai.Embedding.create(input='x', deployment_id='d', api_type='azure', "
            "api_version='2023-05-15', api_key=k)",
            4,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not is_legacy_api_call(self.ctx, node):
            return
        present = {a.keyword.value for a in node.args if a.keyword is not None}
        plan = client_plan(self.ctx)
        for arg in node.args:
            if arg.keyword is None or arg.keyword.value not in LEGACY_KWARGS:
                continue
            name = arg.keyword.value
            advice, safety = LEGACY_KWARGS[name]
            fix = None
            if name in RENAMES and RENAMES[name] not in present and not (
                name in ("engine", "deployment_id") and {"engine", "deployment_id"} <= present
            ) and not (name == "headers" and "request_id" in present):
                fix = Fix().edit(arg, lambda a, new=RENAMES[name]: rename_keyword(a, new))
            elif name == "request_id" or (name == "headers" and "request_id" in present):
                fix = Fix().edit(node, _request_id)  # one shared edit: merges headers and the request id
            elif name in CREDENTIALS and plan.style == "client" and not plan.blocked:
                client = plan.async_name if legacy_is_async(self.ctx, node) else plan.sync_name
                fix = Fix().edit(node, lambda call, c=client: _with_options(call, c))
            self.report(arg, f"`{name}=` is not accepted by the current SDK; {advice}", safety, fix)
