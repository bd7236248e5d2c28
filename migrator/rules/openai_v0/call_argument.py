"""OAI401: per-call keyword arguments of v0 methods that the current SDK rejects."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.names import Scope, string_value
from migrator.rules.openai_v0.catalog import (
    CURRENT_PARAMS,
    FILE_ARGUMENT,
    V0_CLIENT_SIDE,
    converts_to_chat,
    current_method,
    is_legacy_api_call,
    legacy_call,
)
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


def _with_options(call: cst.Call, client: str, base: cst.BaseExpression | None = None) -> cst.Call:
    """``client.x.create(api_key=k, ...)`` -> ``client.with_options(api_key=k).x.create(...)`` (``base``:
    what ``with_options`` is called on instead of ``client``)."""
    moved = [a for a in call.args if a.keyword is not None and a.keyword.value in CREDENTIALS]
    if not moved:
        return call
    options = [keyword(CREDENTIALS[a.keyword.value], a.value) for a in moved]  # type: ignore[union-attr]
    options = [
        o.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if i < len(options) - 1 else o
        for i, o in enumerate(options)
    ]
    holder = cst.Call(func=cst.Attribute(value=base or cst.Name(client), attr=cst.Name("with_options")), args=options)
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
    found = legacy_call(ctx, call)
    target = current_method(*found) if found else None
    return bool(target and target[1])


def _into_extra_body(names: frozenset[str]) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """An edit moving the keyword arguments ``names`` of a call into ``extra_body={...}`` (merged into a
    literal ``extra_body`` dict already passed)."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        moved = [a for a in node.args if a.keyword is not None and a.keyword.value in names]
        entries = [
            cst.DictElement(cst.SimpleString(f'"{a.keyword.value}"'), a.value,  # type: ignore[union-attr]
                            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            for a in moved
        ]
        args = without_args(node, moved)
        existing = next((a for a in args if a.keyword is not None and a.keyword.value == "extra_body"), None)
        if existing is not None and isinstance(existing.value, cst.Dict):
            elements = list(existing.value.elements)
            if elements and elements[-1].comma is cst.MaybeSentinel.DEFAULT:
                elements[-1] = elements[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            merged = existing.value.with_changes(elements=[*elements, *entries[:-1], entries[-1].with_changes(
                comma=cst.MaybeSentinel.DEFAULT)])
            return node.with_changes(args=[a.with_changes(value=merged) if a is existing else a for a in args])
        entries[-1] = entries[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        added = keyword("extra_body", cst.Dict(entries))
        if args:
            # The new argument takes the last one's place in the layout (its comma, the space before `)`);
            # the last one gets the separator its neighbour has.
            last = args[-1]
            previous = args[-2].comma if len(args) > 1 else cst.MaybeSentinel.DEFAULT
            separator = previous if isinstance(previous, cst.Comma) else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            added = added.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
            args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
        return node.with_changes(args=[*args, added])
    return edit


def _binary_mode(node: cst.CSTNode) -> cst.CSTNode:
    """``open(path)`` / ``open(path, "r")`` -> ``open(path, "rb")``."""
    assert isinstance(node, cst.Call)
    args = list(node.args)
    mode = cst.SimpleString('"rb"')
    if len(args) >= 2 and args[1].keyword is None:
        args[1] = args[1].with_changes(value=mode)
    elif any(a.keyword is not None and a.keyword.value == "mode" for a in args):
        args = [a.with_changes(value=mode) if a.keyword is not None and a.keyword.value == "mode" else a for a in args]
    else:
        args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.insert(1, cst.Arg(mode))
    keep = [a for a in args if not (a.keyword is not None and a.keyword.value in ("encoding", "newline", "errors"))]
    if keep != args:
        keep = without_args(node.with_changes(args=args), [a for a in args if a not in keep])
    return node.with_changes(args=keep)


def _text_mode(ctx, call: cst.Call) -> bool:
    """``open(...)`` without a binary mode."""
    if not ctx.is_builtin(call.func, "open") or not call.args:
        return False
    mode_arg = call.args[1] if len(call.args) >= 2 and call.args[1].keyword is None else next(
        (a for a in call.args if a.keyword is not None and a.keyword.value == "mode"), None)
    if mode_arg is None:
        return True
    mode = string_value(mode_arg.value)
    return mode is not None and "b" not in mode and "r" in mode and "+" not in mode


class _DictBuild(cst.CSTVisitor):
    """Where a dict named ``name`` gets its keys in one scope: literal keys of ``name = {...}``/``dict(...)``
    and ``name["key"] = ...`` statements (nested functions and classes are other scopes)."""

    def __init__(self, name: str, root: cst.CSTNode) -> None:
        super().__init__()
        self.name = name
        self.root = root
        self.keys: list[tuple[str, cst.CSTNode]] = []  # (key, the string or keyword node naming it)
        self.opaque = False  # the dict is also built in ways not followed (update(), another value)
        self.deleted: set[str] = set()  # keys removed with `del name["key"]` before the call

    def _nested(self, node: cst.CSTNode) -> bool:
        return node is not self.root

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return not self._nested(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return not self._nested(node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Name) and t.value == self.name:
                self._value(node.value)
            elif isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name) and t.value.value == self.name:
                index = t.slice[0].slice if len(t.slice) == 1 else None
                key = string_value(index.value) if isinstance(index, cst.Index) else None
                if key is not None and isinstance(index, cst.Index):
                    self.keys.append((key, index.value))

    def visit_Del(self, node: cst.Del) -> None:
        targets = node.target.elements if isinstance(node.target, cst.Tuple) else [node.target]
        for target in targets:
            t = target.value if isinstance(target, cst.Element) else target
            if isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name) and t.value.value == self.name:
                index = t.slice[0].slice if len(t.slice) == 1 else None
                key = string_value(index.value) if isinstance(index, cst.Index) else None
                if key is not None:
                    self.deleted.add(key)

    def _value(self, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.DictElement) and string_value(element.key) is not None:
                    self.keys.append((string_value(element.key) or "", element.key))
        elif isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict":
            for arg in value.args:
                if arg.keyword is not None:
                    self.keys.append((arg.keyword.value, arg.keyword))
        else:
            self.opaque = True

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self.name
            and func.attr.value in ("update", "setdefault")
        ):
            self.opaque = True


def _renamed_keyword(new: str) -> Callable[[cst.CSTNode], cst.CSTNode]:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        return rename_keyword(node, new)
    return edit


def _request_id_edit(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.Call)
    return _request_id(node)


def _with_options_edit(client: str, base: cst.BaseExpression | None = None) -> Callable[[cst.CSTNode], cst.CSTNode]:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        return _with_options(node, client, base)
    return edit


def _renamed_key(new: str) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """An edit renaming a dict key (a string) or a ``dict(...)`` keyword (a name) to ``new``."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        if isinstance(node, cst.Name):
            return cst.Name(new)
        assert isinstance(node, cst.SimpleString)
        return cst.SimpleString(f"{node.prefix}{node.quote}{new}{node.quote}")
    return edit


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

    The same keys are found in a dict built first and splatted (`params = {...}; create(**params)`,
    `params["request_timeout"] = 30`). A keyword the current method does not have (v0 sent every
    unknown keyword in the request body) moves into `extra_body={...}`; `timeout=`, which v0 used
    itself (how long to retry while a model loaded) and never sent, is reported. A file opened in text
    mode and uploaded (`File.create`, `Audio.transcribe`, ...) is opened `"rb"`: the current SDK
    sends bytes.

    `engine`/`deployment_id` become `model` for every call, not only calls that go to Azure: outside
    Azure, openai 0.28.1 sent them as the path of the `/engines/<id>/...` routes (`class_url` of
    `EngineAPIResource`), where the id named the model, and on Azure as the deployment
    (`/openai/deployments/<id>/...`), which the current SDK takes from `model=` too.

    ## Fix safety
    Safe for `request_timeout`, `headers`, `request_id`, `engine`, `deployment_id` and the
    per-call credentials (moved into `client.with_options(...)`), for the same keys of a splatted
    dict (renamed where the dict is built), for unknown keywords (into `extra_body`) and for the
    file mode. `api_type` and `api_version`, credentials and unknown keys inside a splatted dict,
    and v0's own `timeout=` are report-only.
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
        Invalid(
            "import openai\nparams = {'model': 'm', 'request_timeout': 30}\nparams['headers'] = {'a': 'b'}\n"
            "openai.ChatCompletion.create(messages=[], **params)",
            2,
            fixed="from openai import OpenAI\n\nclient = OpenAI()\nparams = {'model': 'm', 'timeout': 30}\n"
            "params['extra_headers'] = {'a': 'b'}\nclient.chat.completions.create(messages=[], **params)",
        ),
        Invalid(
            "import openai\nopenai.ChatCompletion.create(model='m', messages=[], return_function_call=True)",
            fixed="from openai import OpenAI\n\nclient = OpenAI()\n"
            "client.chat.completions.create(model='m', messages=[], extra_body={\"return_function_call\": True})",
        ),
        Invalid(
            "import openai\nopenai.File.create(file=open('data.jsonl'), purpose='fine-tune')",
            fixed="from openai import OpenAI\n\nclient = OpenAI()\n"
            "client.files.create(file=open('data.jsonl', \"rb\"), purpose='fine-tune')",
        ),
        Invalid("import openai\nopenai.ChatCompletion.create(model='m', messages=[], timeout=60)"),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.opened: dict[int, dict[str, cst.Call]] = {}  # id(scope) -> name -> the open() call bound to it
        self.functions: list[str] = []  # names of the enclosing functions

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Return(self, node: cst.Return) -> None:
        """``return {"engine": ...}`` in a function whose result is splatted into v0 calls elsewhere."""
        module = self.ctx.project.module_of(self.ctx.path)
        if not isinstance(node.value, cst.Dict) or module is None or len(self.functions) != 1:
            return
        if not self.ctx.project.splatted_into_v0(f"{module}.{self.functions[0]}"):
            return
        keys = {string_value(e.key) for e in node.value.elements if isinstance(e, cst.DictElement)}
        for element in node.value.elements:
            key = string_value(element.key) if isinstance(element, cst.DictElement) else None
            if key in RENAMES and RENAMES[key] not in keys and not {"engine", "deployment_id"} <= keys:
                assert isinstance(element, cst.DictElement)
                self.report(element.key, f"`{key}` (splatted into a v0 call) is not accepted by the current SDK; "
                            f"{LEGACY_KWARGS[key][0]}", FixSafety.SAFE, Fix().edit(element.key, _renamed_key(RENAMES[key])))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name) and isinstance(node.item, cst.Call):
            self.opened.setdefault(id(self.ctx.scope), {})[node.asname.name.value] = node.item

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.opened.setdefault(id(self.ctx.scope), {})[target.target.value] = node.value

    def _file_mode(self, node: cst.Call) -> None:
        found = legacy_call(self.ctx, node)
        if found is None:
            return
        resource, method = found
        base = method[1:] if method.startswith("a") and (resource, method[1:]) in FILE_ARGUMENT else method
        where = FILE_ARGUMENT.get((resource, base))
        if where is None:
            return
        position, name = where
        positional = [a for a in node.args if a.keyword is None and not a.star]
        arg = next((a for a in node.args if a.keyword is not None and a.keyword.value == name), None)
        if arg is None and len(positional) > position:
            arg = positional[position]
        if arg is None:
            return
        value = arg.value
        if isinstance(value, cst.Name):
            bound = self.opened.get(id(self.ctx.scope), {}).get(value.value)
            if bound is None:
                return
            value = bound
        if isinstance(value, cst.Call) and _text_mode(self.ctx, value):
            self.report(value, "the file is opened in text mode, but the current SDK uploads bytes: open it `\"rb\"`",
                        plan=Fix().edit(value, _binary_mode))

    def _splatted(self, node: cst.Call, path: str | None) -> None:
        """Keys of a dict built in this scope and splatted into the call (``create(**params)``)."""
        for arg in node.args:
            if arg.star != "**" or not isinstance(arg.value, cst.Name):
                continue
            name = arg.value.value
            scope: Scope | None = self.ctx.scope
            while scope is not None and name not in scope.locals:
                scope = scope.parent
            if scope is None:
                continue
            build = _DictBuild(name, scope.node)
            scope.node.visit(build)
            keys = {key for key, _ in build.keys} - build.deleted
            for key, where in build.keys:
                if key in build.deleted:
                    continue
                if key in RENAMES and RENAMES[key] not in keys and not (
                    key in ("engine", "deployment_id") and {"engine", "deployment_id"} <= keys
                ):
                    self.report(where, f"`{key}` (splatted into a v0 call) is not accepted by the current SDK; "
                                f"{LEGACY_KWARGS[key][0]}", FixSafety.SAFE,
                                Fix().edit(where, _renamed_key(RENAMES[key])))
                elif key in LEGACY_KWARGS:
                    self.report(where, f"`{key}` (splatted into a v0 call) is not accepted by the current SDK; "
                                f"{LEGACY_KWARGS[key][0]}", FixSafety.REPORT)
                elif key in V0_CLIENT_SIDE and path in ("chat.completions.create", "completions.create"):
                    self.report(where, V0_CLIENT_SIDE[key], FixSafety.REPORT)
                elif path in CURRENT_PARAMS and key not in CURRENT_PARAMS[path]:
                    self.report(where, f"`{key}` (splatted into a v0 call) is not a parameter of `{path}`; v0 sent "
                                "it in the request body: put it under an `extra_body` key", FixSafety.REPORT)

    def visit_Call(self, node: cst.Call) -> None:
        if not is_legacy_api_call(self.ctx, node):
            return
        found = legacy_call(self.ctx, node)
        target = current_method(*found) if found is not None else None
        path = target[0] if target is not None and not converts_to_chat(self.ctx, node) else None
        self._file_mode(node)
        self._splatted(node, path)
        unknown = frozenset(
            a.keyword.value for a in node.args
            if a.keyword is not None and path in CURRENT_PARAMS and a.keyword.value not in CURRENT_PARAMS[path]
            and a.keyword.value not in LEGACY_KWARGS
        )
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in unknown:
                self.report(arg, f"`{arg.keyword.value}=` is not a parameter of `{path}`; v0 sent it in the request "
                            "body: it moves into `extra_body`", FixSafety.SAFE, Fix().edit(node, _into_extra_body(unknown)))
            elif arg.keyword is not None and arg.keyword.value in V0_CLIENT_SIDE and path in (
                "chat.completions.create", "completions.create"
            ):
                self.report(arg, V0_CLIENT_SIDE[arg.keyword.value], FixSafety.REPORT)
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
                fix = Fix().edit(arg, _renamed_keyword(RENAMES[name]))
            elif name == "request_id" or (name == "headers" and "request_id" in present):
                fix = Fix().edit(node, _request_id_edit)  # one shared edit: merges headers and the request id
            elif name in CREDENTIALS and (
                found_client := plan.options_client(legacy_is_async(self.ctx, node), options_fix := Fix())
            ) is not None:
                fix = options_fix.edit(node, _with_options_edit(*found_client))
            self.report(arg, f"`{name}=` is not accepted by the current SDK; {advice}", safety, fix)
