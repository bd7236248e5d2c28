"""OAI101: calls of the v0 resource classes (``openai.ChatCompletion.create`` and friends)."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.openai_v0.catalog import CHAT_INCOMPATIBLE, converts_to_chat, current_method, describe, legacy_call
from migrator.rules.types import FixSafety
from migrator.rules.openai_v0.clients import client_plan
from migrator.rules.openai_v0.rewrite import attribute_chain, keyword

# Positional parameters of v0 methods whose current counterparts take keywords only.
POSITIONAL: dict[tuple[str, str], tuple[str, ...]] = {
    ("Audio", "transcribe"): ("model", "file"),
    ("Audio", "translate"): ("model", "file"),
    ("Audio", "transcribe_raw"): ("model", "file", "filename"),
    ("Audio", "translate_raw"): ("model", "file", "filename"),
    ("Moderation", "create"): ("input", "model"),
    ("File", "create"): ("file", "purpose"),
    ("Image", "create_variation"): ("image",),
    ("Image", "create_edit"): ("image", "mask"),
}
# Keyword renames: v0 took `id`/`sid`; current methods name the parameter after the resource.
KEYWORDS: dict[str, dict[str, str]] = {
    "File": {"id": "file_id", "sid": "file_id"},
    "FineTuningJob": {"id": "fine_tuning_job_id", "sid": "fine_tuning_job_id"},
    "Model": {"id": "model", "sid": "model"},
}


def convert_arguments(call: cst.Call, resource: str, method: str) -> cst.Call | None:
    """Current-style arguments for a v0 call, or None when they cannot be carried over."""
    base = method[1:] if method.startswith("a") and (resource, method[1:]) in POSITIONAL else method
    names = POSITIONAL.get((resource, base), ())
    renames = KEYWORDS.get(resource, {})
    args: list[cst.Arg] = []
    positional = 0
    for arg in call.args:
        if arg.star:
            return None if names else call
        if arg.keyword is None and names:
            if positional >= len(names):
                return None
            args.append(keyword(names[positional], arg.value).with_changes(comma=arg.comma))
            positional += 1
        elif arg.keyword is not None and arg.keyword.value in renames:
            args.append(arg.with_changes(keyword=cst.Name(renames[arg.keyword.value])))
        else:
            args.append(arg)
    if base.endswith("_raw"):
        # transcribe_raw(model, file, filename): the current API takes file=(filename, bytes).
        by_name = {a.keyword.value: a for a in args if a.keyword is not None}
        if "file" not in by_name or "filename" not in by_name:
            return None
        pair = cst.Tuple([cst.Element(by_name["filename"].value), cst.Element(by_name["file"].value)])
        args = [a.with_changes(value=pair) if a is by_name["file"] else a for a in args if a is not by_name["filename"]]
    if args:
        args[-1] = args[-1].with_changes(comma=call.args[-1].comma if len(call.args) == len(args) else cst.MaybeSentinel.DEFAULT)
    return call.with_changes(args=args)


def client_call_plan(ctx, node: cst.Call, resource: str, method: str) -> Fix | None:
    """The fix that moves a v0 call to the module's client; None when it cannot be made."""
    target = current_method(resource, method)
    if target is None:
        return None
    path, is_async = target
    plan = client_plan(ctx)
    if plan.blocked or not _arguments_carry_over(node):
        return None
    fix = Fix()
    if plan.style == "module" and is_async:
        root = plan.lazy_async_expr(fix)  # there is no async module-level client
    elif plan.style == "module":
        root = _openai_base(ctx, node.func, fix)
    else:
        root = plan.client_expr(is_async, fix)
    forget_imports(ctx, node.func, fix)
    fix.replace(node.func, attribute_chain(root, path))
    converted = convert_arguments(node, resource, method)
    if converted is None:
        return None
    if converted is not node:
        fix.edit(node, lambda call: call.with_changes(args=convert_arguments(call, resource, method).args))  # type: ignore[union-attr]
    if method in ("download", "adownload"):
        # v0 returned the bytes; files.content() returns a response whose .content holds them.
        fix.edit(node, lambda call: cst.Attribute(value=call, attr=cst.Name("content")))
    return fix


def _prompt_to_messages(call: cst.CSTNode) -> cst.CSTNode:
    """``prompt=P`` -> ``messages=[{"role": "user", "content": P}]``."""
    assert isinstance(call, cst.Call)
    args = []
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "prompt":
            message = cst.Dict([
                cst.DictElement(cst.SimpleString('"role"'), cst.SimpleString('"user"'), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.DictElement(cst.SimpleString('"content"'), arg.value),
            ])
            arg = arg.with_changes(keyword=cst.Name("messages"), value=cst.List([cst.Element(message)]))
        args.append(arg)
    return call.with_changes(args=args)


def _arguments_carry_over(call: cst.Call) -> bool:
    """False when a keyword has no current equivalent (api_type, api_version) or two keywords would
    collide after renaming: such calls stay as they are and are reported."""
    names = [a.keyword.value for a in call.args if a.keyword is not None]
    if {"api_type", "api_version"} & set(names):
        return False
    renamed = [{"engine": "model", "deployment_id": "model", "request_timeout": "timeout"}.get(n, n) for n in names]
    return len(renamed) == len(set(renamed))


def forget_imports(ctx, func: cst.BaseExpression, fix: Fix) -> None:
    """Queue removal (when unused after the rewrite) of what the legacy reference was reached through:
    ``import openai``, or ``from openai import ChatCompletion [as CC]``."""
    root = func
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name):
        return
    qualname = ctx.resolve(root) or ""
    if qualname == "openai":
        fix.remove_import("openai", None, root.value if root.value != "openai" else None)
    elif qualname.startswith("openai.") and qualname.count(".") == 1:
        name = qualname.split(".")[1]
        fix.remove_import("openai", name, root.value if root.value != name else None)


def _openai_base(ctx, func: cst.BaseExpression, fix: Fix) -> cst.BaseExpression:
    """The expression naming the openai module at this call (``oai`` for ``oai.ChatCompletion.create``)."""
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute):
        if ctx.resolve(func.value.value) == "openai":
            return func.value.value
    fix.add_import("openai")
    return cst.Name("openai")


class LegacyResourceCall(Rule):
    """## What it does
    Finds calls of the openai v0 resource classes: `openai.ChatCompletion.create`, `Completion`,
    `Embedding`, `Image`, `Audio`, `Moderation`, `File`, `FineTuningJob` and `Model` methods, and
    their `a*` async twins (`acreate`, ...), however `openai` or the class was imported.

    ## Why is this bad?
    openai 1.0 removed these classes. Under the current SDK the attribute still exists, but calling it
    raises `openai.lib._old_api.APIRemovedInV1` ("You tried to access openai.ChatCompletion, but this
    is no longer supported in openai>=1.0.0").

    ## Example
    ```python
    import openai
    reply = openai.ChatCompletion.create(model="gpt-4o", messages=msgs)
    ```

    Use instead:
    ```python
    from openai import OpenAI
    client = OpenAI()
    reply = client.chat.completions.create(model="gpt-4o", messages=msgs)
    ```
    `acreate` becomes `await aclient.chat.completions.create(...)` on an `AsyncOpenAI` client.

    ## Fix safety
    Safe: the call is moved to a client built once per module from the module's configuration.
    """

    valid = (
        "from openai import OpenAI\nclient = OpenAI()\nclient.chat.completions.create(model='m', messages=[])",
        "import openai\nopenai.chat.completions.create(model='m', messages=[])",
        "from langchain import openai as lc_openai\nlc_openai.ChatCompletion.create()",
        "class ChatCompletion:\n    @staticmethod\n    def create(): ...\nChatCompletion.create()",
        "from . import openai\nopenai.ChatCompletion.create()",
        "import openai\nopenai.Edit.create(model='m')",  # removed API: OAI102
    )
    has_fixes = True
    invalid = (
        Invalid(
            "import openai\nopenai.ChatCompletion.create(model='gpt-4', messages=[])",
            fixed="from openai import OpenAI\n\nclient = OpenAI()\nclient.chat.completions.create(model='gpt-4', messages=[])",
        ),
        Invalid(
            "import openai\nopenai.api_key = key\nr = openai.Audio.transcribe('whisper-1', f)",
            fixed="from openai import OpenAI\n\nclient = OpenAI(api_key=key)\n"
            "r = client.audio.transcriptions.create(model='whisper-1', file=f)",
        ),
        Invalid("import openai as oai\noai.Completion.create(model='m', prompt='p')"),
        Invalid("from openai import ChatCompletion as CC\nCC.create(model='m', messages=[])"),
        Invalid("def f():\n    import openai\n    return openai.Embedding.create(input='x', model='m')"),
        Invalid("import openai\nasync def f():\n    return await openai.ChatCompletion.acreate(model='m')"),
        Invalid("import openai\nopenai.Image.create(prompt='p')\nopenai.Audio.transcribe('whisper-1', f)", 2),
        Invalid("from openai import *\nModeration.create(input='x')"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        found = legacy_call(self.ctx, node)
        if found is None:
            return
        resource, method = found
        target = current_method(resource, method)
        if target is None:
            return
        path, is_async = target
        if converts_to_chat(self.ctx, node):
            plan = client_call_plan(self.ctx, node, "ChatCompletion", method)
            if plan is not None:
                plan.edit(node, _prompt_to_messages)
            self.report(node, f"`{describe(resource, method)}` on a completion-only model becomes a chat call for the "
                              "target (unsafe: chat models answer rather than continue)", FixSafety.UNSAFE, plan)
            return
        use = f"`await aclient.{path}(...)`" if is_async else f"`client.{path}(...)`"
        plan = client_call_plan(self.ctx, node, resource, method)
        message = f"`{describe(resource, method)}` was removed in openai 1.0; use {use}"
        if resource == "Completion" and any(a.keyword is not None and a.keyword.value in CHAT_INCOMPATIBLE for a in node.args):
            message += " (echo/suffix/best_of/logprobs keep it off chat models)"
        self.report(node, message, plan=plan)
