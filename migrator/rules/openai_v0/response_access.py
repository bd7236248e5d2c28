"""OAI501: dict-style use of v0 responses, which are pydantic models now."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.names import Scope, dotted_name, string_value
from migrator.rules.openai_v0.catalog import (
    LIST_FIELDS,
    converts_to_chat,
    current_method,
    is_legacy_api_call,
    scalar_field,
    split_qualname,
)
from migrator.rules.openai_v0.response_rewrite import (
    chain_depth,
    chain_root,
    convertible,
    edit_arg_to_dict,
    edit_attributes,
    edit_call_to_dict,
    edit_element_to_dict,
    edit_get_chain,
    edit_get_part,
    edit_membership,
    edit_method_name,
    edit_receiver_to_dict,
    edit_text_to_content,
    get_base,
    get_steps,
    has_string_key,
    membership,
    pure,
    string_key,
    to_dict,
)
from migrator.rules.types import FixSafety

# Builtins whose function argument is called with the elements of their iterable argument.
_ELEMENT_CALLERS = ("sorted", "map", "filter", "min", "max")
# Top-level keys only v0 responses have: a parameter read with them is likely one (reported if unknown).
_RESPONSE_KEYS = ("choices", "usage", "results")
# What code does with a dict that a response object now does through ``to_dict()``.
_DICT_METHODS = ("items", "keys", "values")


# Response fields whose value is an object (a dict in v0), not a string, number or list.
_OBJECT_FIELDS = frozenset({"usage", "message", "delta", "function_call", "logprobs", "categories", "category_scores",
                            "error", "prompt_tokens_details", "completion_tokens_details"})


def _object_valued(expr: cst.BaseExpression) -> bool:
    """Whether ``expr`` (a response or a part of it) is an object: the response itself, a list element
    (``choices[0]``) or an object field (``usage``, ``message``)."""
    if isinstance(expr, cst.Name):
        return True
    if isinstance(expr, cst.Subscript):
        key = string_key(expr)
        return key in _OBJECT_FIELDS if key is not None else True
    return isinstance(expr, cst.Attribute) and expr.attr.value in _OBJECT_FIELDS


class LegacyResponseAccess(Rule):
    """## What it does
    Finds dict-style use of values that come from a v0 call: `resp["choices"][0]["message"]`,
    `resp.get("usage")`, `"usage" in resp`, `json.dumps(resp)`, `dict(resp)`, `part.items()`,
    `**resp`, and streamed chunks (`chunk["choices"][0]["delta"]`). A value is followed through
    assignments, `for` loops over streams and lists, comprehensions and lambdas (`sorted(r["data"],
    key=lambda d: d["index"])`), attributes (`self.last = create(...)`), lists and dicts it is put in
    (`results.append(r)`, `cache[k] = r`), helper functions that return a v0 call's result, and with
    the whole program (a `migrate apply` over a project): helpers of other modules and parameters
    whose every caller passes a response. A parameter read like a response (`resp["choices"]`) whose
    callers are unknown is reported, never guessed.

    ## Why is this bad?
    v0 responses were dicts; current ones are pydantic models: `resp["choices"]` raises `TypeError`,
    `resp.get(...)` raises `AttributeError`, and `"usage" in resp` is silently `False`.

    ## Example
    ```python
    resp = openai.ChatCompletion.create(model="gpt-4o", messages=m)
    text = resp["choices"][0]["message"]["content"]
    tokens = resp.get("usage", {}).get("total_tokens", 0)
    ```

    Use instead:
    ```python
    resp = client.chat.completions.create(model="gpt-4o", messages=m)
    text = resp.choices[0].message.content
    tokens = (resp.usage.total_tokens if resp.usage is not None and resp.usage.total_tokens is not None else 0)
    ```

    ## Fix safety
    Safe. Subscripts become attributes (`"self-harm/intent"` -> `.self_harm_intent`, the field's name);
    `.get(k)` the attribute, `.get(k, "")` `(x.k or "")`, other defaults and `.get(k, {}).get(...)` chains
    a `None` check that gives the default exactly where v0 found no key; `"k" in x` becomes
    `x.k is not None`. Where code needs a dict, the fix emits `.to_dict()` (never `model_dump()`):
    `to_dict()` is `model_dump(by_alias=True, exclude_unset=True)`, so the keys are the API's names
    (`self-harm`) and only the fields the server sent appear, like the v0 dict. So `json.dumps(r)` /
    `json.dump(r, f)` -> `json.dumps(r.to_dict())`, `dict(r)` -> `r.to_dict()`, `r.items()` ->
    `r.to_dict().items()`, `f(**r)` -> `f(**r.to_dict())`, a response stored in a dict literal
    (`{"raw": r}`) -> `{"raw": r.to_dict()}`, and a response message appended to a list of plain dicts
    (a list passed as `messages=`, or holding dict literals) -> `messages.append(message.to_dict())`, so
    the history stays a list of dicts that code reads with `m["role"]`. String and number fields
    (`content`, `text`, `embedding`, `total_tokens`, ...) are plain values now as then: nothing done with
    them is rewritten. Keys that give no identifier and uses it cannot rewrite exactly are reported.
    """

    valid = (
        "from openai import OpenAI\nr = OpenAI().chat.completions.create(model='m', messages=[])\nprint(r.choices[0].message.content)",
        "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nprint(r.choices[0].message.content)",
        "import openai\nr = {'choices': []}\nprint(r['choices'])",
        "import openai\ndef show(row):\n    print(row['name'])",
        "import openai\ndef f():\n    r = openai.ChatCompletion.create(model='m', messages=[])\n    return 1\nx = f()\nx['a']",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nprint(r['choices'][0]['message']['content'])",
            fixed="from openai import OpenAI\n\nclient = OpenAI()\nr = client.chat.completions.create(model='m', messages=[])\n"
            "print(r.choices[0].message.content)",
        ),
        Invalid(
            "import openai, json\nfor c in openai.ChatCompletion.create(model='m', messages=[], stream=True):\n"
            "    print(c['choices'][0]['delta'].get('content', ''), json.dumps(c))",
            2,
            fixed="import json\nfrom openai import OpenAI\n\nclient = OpenAI()\n"
            "for c in client.chat.completions.create(model='m', messages=[], stream=True):\n"
            "    print((c.choices[0].delta.content or ''), json.dumps(c.to_dict()))",
        ),
        Invalid("import openai\nr = openai.Embedding.create(input='x', model='m')\nv = r['data'][0]['embedding']"),
        Invalid(
            "import openai\nfor chunk in openai.ChatCompletion.create(model='m', messages=[], stream=True):\n"
            "    print(chunk['choices'][0]['delta'].get('content', ''))"
        ),
        Invalid("import openai, json\nr = openai.Completion.create(model='m', prompt='p')\njson.dumps(r)\nr.get('usage')", 2),
        Invalid("import openai\ndef ask(q):\n    return openai.ChatCompletion.create(model='m', messages=[q])\nans = ask('x')\nans['choices']"),
        Invalid(
            "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nif 'usage' in r:\n    pass",
            fixed="from openai import OpenAI\n\nclient = OpenAI()\nr = client.chat.completions.create(model='m', messages=[])\n"
            "if r.usage is not None:\n    pass",
        ),
        Invalid(
            "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\n"
            "n = r.get('usage', {}).get('total_tokens', 0)",
            fixed="from openai import OpenAI\n\nclient = OpenAI()\nr = client.chat.completions.create(model='m', messages=[])\n"
            "n = (r.usage.total_tokens if r.usage is not None and r.usage.total_tokens is not None else 0)",
        ),
        Invalid(
            "import openai\nr = openai.Embedding.create(input=['a', 'b'], model='m')\n"
            "rows = sorted(r['data'], key=lambda d: d['index'])\ntexts = list(map(lambda d: d['embedding'], rows))",
            3,
            fixed="from openai import OpenAI\n\nclient = OpenAI()\nr = client.embeddings.create(input=['a', 'b'], model='m')\n"
            "rows = sorted(r.data, key=lambda d: d.index)\ntexts = list(map(lambda d: d.embedding, rows))",
        ),
        Invalid(
            "import openai\nclass Bot:\n    def ask(self, m):\n"
            "        self.last = openai.ChatCompletion.create(model='m', messages=m)\n        self.log.append(self.last)\n"
            "    def text(self):\n        return self.last['choices'][0]['message']['content'], self.log[0]['id']",
            2,
        ),
        Invalid(
            "import openai, json\nr = openai.Moderation.create(input='x')\nflags = r['results'][0]['categories']\n"
            "for name, hit in flags.items():\n    print(name, hit)\njson.dump(r, f, indent=2)\nMsg(**r['results'][0])",
            4,
            fixed="import json\nfrom openai import OpenAI\n\nclient = OpenAI()\nr = client.moderations.create(input='x')\n"
            "flags = r.results[0].categories\nfor name, hit in flags.to_dict().items():\n    print(name, hit)\n"
            "json.dump(r.to_dict(), f, indent=2)\nMsg(**r.results[0].to_dict())",
        ),
        Invalid(
            "import openai\nfrom openai.openai_object import OpenAIObject\nopenai.Model.list()\n"
            "def text(resp: OpenAIObject):\n    return resp['choices'][0]['text']",
            fixed="from openai import OpenAI, BaseModel as OpenAIObject\n\nclient = OpenAI()\nclient.models.list()\n"
            "def text(resp: OpenAIObject):\n    return resp.choices[0].text",
        ),
        Invalid("import openai\nopenai.Model.list()\ndef show(resp):\n    print(resp['choices'][0]['message']['content'])"),
        Invalid(
            "import openai\nasync def f():\n    r = await openai.ChatCompletion.acreate(model='m', messages=[])\n"
            "    return r['choices'][0]['message']['content']"
        ),
        Invalid("import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nfor c in r.choices:\n    c['text']"),
        Invalid("import openai, functools\nask = functools.partial(openai.ChatCompletion.create, model='m')\nask(messages=[])['choices']"),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.names: dict[int, set[str]] = {}  # id(scope) -> names bound to v0 values
        self.optional: dict[int, set[str]] = {}  # the subset bound to `r.get(k, {})`: None where v0 had {}
        self.containers: dict[int, set[str]] = {}  # id(scope) -> names of lists/dicts holding v0 values
        self.attributes: set[str] = set()  # `self.last`-style attributes assigned a v0 value
        self.attribute_containers: set[str] = set()  # `self.history`-style attributes holding v0 values
        self.chat_names: dict[int, set[str]] = {}  # the subset whose call becomes a chat call (--target)
        self.producers: dict[int, set[str]] = {}  # id(scope) -> names bound to wrappers of v0 methods
        self.done: set[int] = set()
        self.accessed: set[int] = set()  # expressions whose value is used further (x in x.a, x[0], x.f())
        self.element_lambdas: set[int] = set()  # lambdas called with the elements of a v0 value
        self.lambda_bound: list[list[str]] = []
        self.defs: list[str] = []  # names of the enclosing classes and functions
        self.unknown_reported: set[int] = set()
        self._helpers: set[str] | None = None
        self.dict_lists: set[tuple[int, str]] = set()  # lists of plain dicts (message histories), see _dicts_key

    # -- what holds a v0 value -------------------------------------------------------------------
    def _scope_names(self, scope: Scope) -> set[str]:
        return self.names.setdefault(id(scope), set())

    def _helpers_returning_legacy(self) -> set[str]:
        if self._helpers is None:
            self._helpers = set()
            for name, func in self.ctx.index.functions.items():
                scope = self.ctx.index.scope_of(func)
                if scope is None:
                    continue
                with self.ctx.in_scopes([*self.ctx.scopes, scope]):
                    for value in scope.returns:
                        if self._is_legacy_call(value) or (
                            isinstance(value, cst.Name)
                            and any(self._is_legacy_call(v) for v in scope.values.get(value.value, ()))
                        ):
                            self._helpers.add(name)
        return self._helpers

    def _is_legacy_call(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Await):
            expr = expr.expression
        return isinstance(expr, cst.Call) and is_legacy_api_call(self.ctx, expr)

    # -- the whole program ---------------------------------------------------------------------------
    def _module(self) -> str | None:
        return self.ctx.project.module_of(self.ctx.path)

    def _absolute(self, qualname: str | None) -> str | None:
        """A qualified name with ScopeIndex's relative ``.mod.name`` made absolute."""
        if qualname is None or not qualname.startswith("."):
            return qualname
        module = self._module()
        if module is None:
            return None
        from migrator.rules.openai_v0.program import absolute_module

        dots = len(qualname) - len(qualname.lstrip("."))
        is_package = self.ctx.path.endswith("__init__.py")
        base = absolute_module(module, is_package, dots, "")
        return f"{base}.{qualname[dots:]}" if base else qualname[dots:]

    def _project_returns_response(self, func: cst.BaseExpression, position: str = "") -> bool:
        """Whether the project function ``func`` returns a response (``position`` "#1": the second value
        of the tuple it returns)."""
        project = self.ctx.project
        if not project.modules:
            return False
        qualname = self._absolute(self.ctx.resolve(func))
        if qualname is None and isinstance(func, cst.Name):
            module = self._module()
            if module is not None and func.value in self.ctx.index.root.locals:
                qualname = f"{module}.{func.value}"
        if qualname is None:
            return False
        if project.returns_response(qualname + position):
            return True
        head, _, name = qualname.rpartition(".")
        exported = project.resolve_export(head, name) if head else None
        return bool(exported and project.returns_response(exported + position))

    def _legacy_root(self, root: cst.BaseExpression) -> bool:
        if isinstance(root, cst.Await):
            root = root.expression
        if self._is_legacy_call(root):
            return True
        if isinstance(root, cst.Name):
            return root.value in self._scope_names(self.ctx.scope)
        if isinstance(root, cst.Call):
            if root.args and any(self._is_builtin(root.func, name) for name in ("max", "min", "next")):
                first = root.args[0].value  # max(resp["data"], key=...): one of its elements
                return self.is_legacy(first) or self._is_container(first) or self._holds_legacy(first)
            if isinstance(root.func, cst.Name):
                name = root.func.value
                if name in self.producers.get(id(self.ctx.scope), ()) or name in self.producers.get(id(self.ctx.index.root), ()):
                    return True
                if name in self._helpers_returning_legacy() and self.ctx.index.lookup(name, self.ctx.scope) is None:
                    return True
            return self._project_returns_response(root.func)
        return False

    def base_of(self, expr: cst.BaseExpression) -> int | None:
        """How many links above the root of ``expr``'s chain the v0 value starts (0: the root is one;
        1: the root holds them, ``results[0]``); None when ``expr`` is no v0 value."""
        links: list[cst.BaseExpression] = []
        node = expr
        while isinstance(node, (cst.Subscript, cst.Attribute)):
            links.append(node)
            node = node.value
        links.reverse()  # innermost first
        if self._legacy_root(node):
            return 0
        # Attributes (`self.last`) and containers (`results[0]`, `self.history[-1]`).
        for index, link in enumerate(links):
            text = dotted_name(link) if isinstance(link, cst.Attribute) else ""
            if text and text in self.attributes:
                return index + 1
            holder = link.value if isinstance(link, cst.Subscript) else None
            if holder is not None and self._is_container(holder):
                return index + 1
        return None

    def _is_container(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            return expr.value in self.containers.get(id(self.ctx.scope), ())
        text = dotted_name(expr) if isinstance(expr, cst.Attribute) else ""
        return bool(text) and text in self.attribute_containers

    def _is_builtin(self, func: cst.BaseExpression, name: str) -> bool:
        """``name`` is the builtin here, also in a module with star imports that do not provide it."""
        if not isinstance(func, cst.Name) or func.value != name:
            return False
        if self.ctx.is_builtin(func, name):
            return True
        qualname = self.ctx.index.lookup(name, self.ctx.scope)
        if qualname is None or not qualname.endswith("." + name):
            return False  # bound in the module (or imported under that name)
        star = qualname[: -len(name) - 1]
        in_stars = any(star in scope.star_modules for scope in self.ctx.scopes)
        return in_stars and self.ctx.project.resolve_export(star, name) is None

    def is_legacy(self, expr: cst.BaseExpression) -> bool:
        """``expr`` is a v0 response or a part of one that is itself an object (not ``x["content"]``)."""
        return self.base_of(expr) is not None and not scalar_field(expr)

    def _wraps_legacy_method(self, expr: cst.CSTNode) -> bool:
        """``functools.partial(openai.ChatCompletion.create, ...)``, ``retry(...)(openai.Completion.create)``."""
        if isinstance(expr, (cst.Attribute, cst.Name)):
            split = split_qualname(self.ctx.resolve(expr))
            if split is not None and split[1] is not None and current_method(split[0], split[1]) is not None:
                return True
        if isinstance(expr, (cst.Lambda, cst.FunctionDef)):
            return False
        return any(self._wraps_legacy_method(child) for child in expr.children)

    def _holds_legacy(self, expr: cst.BaseExpression) -> bool:
        """A list/tuple/set literal or comprehension of v0 values, or an iteration of a container."""
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)) and expr.elements:
            return all(self.is_legacy(e.value) for e in expr.elements if not isinstance(e, cst.StarredElement))
        if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
            return self.is_legacy(expr.elt)
        if isinstance(expr, cst.Call) and expr.args and any(
            self._is_builtin(expr.func, name) for name in ("sorted", "list", "reversed", "filter", "tuple")
        ):
            iterable = expr.args[-1].value if self._is_builtin(expr.func, "filter") else expr.args[0].value
            return self.is_legacy(iterable) or self._is_container(iterable)
        return self._is_container(expr)

    def _bind(self, target: cst.BaseExpression, legacy: bool, value: cst.BaseExpression | None = None) -> None:
        if isinstance(target, cst.Name):
            names = self._scope_names(self.ctx.scope)
            (names.add if legacy else names.discard)(target.value)
            chat = self.chat_names.setdefault(id(self.ctx.scope), set())
            (chat.add if legacy and value is not None and self._from_chat_conversion(value) else chat.discard)(target.value)
            containers = self.containers.setdefault(id(self.ctx.scope), set())
            holds = value is not None and not legacy and self._holds_legacy(value)
            (containers.add if holds else containers.discard)(target.value)
        elif isinstance(target, cst.Attribute):
            text = dotted_name(target)
            if not text or (value is not None and isinstance(value, cst.Name) and value.value == "None"):
                return  # `self.last = None` in __init__ does not undo what another method stores
            (self.attributes.add if legacy else self.attributes.discard)(text)
            holds = value is not None and not legacy and self._holds_legacy(value)
            (self.attribute_containers.add if holds else self.attribute_containers.discard)(text)

    def _from_chat_conversion(self, expr: cst.BaseExpression) -> bool:
        root = chain_root(expr)
        if isinstance(root, cst.Await):
            root = root.expression
        if isinstance(root, cst.Call):
            return converts_to_chat(self.ctx, root)
        return isinstance(root, cst.Name) and root.value in self.chat_names.get(id(self.ctx.scope), ())

    # -- scopes and parameters -----------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.defs.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.defs.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.defs.append(node.name.value)
        for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            hint = param.annotation.annotation if param.annotation is not None else None
            if hint is not None and self.ctx.resolve(hint) == "openai.openai_object.OpenAIObject":
                self._scope_names(self.ctx.scope).add(param.name.value)  # typed as a v0 response
        module = self._module()
        if module is None:
            return
        params = self.ctx.project.response_params(".".join([module, *self.defs]))
        for name in params:
            self._scope_names(self.ctx.scope).add(name)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.defs.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        bound: list[str] = []
        if id(node) in self.element_lambdas and node.params.params:
            first = node.params.params[0].name.value
            names = self._scope_names(self.ctx.scope)
            if first not in names:
                names.add(first)
                bound.append(first)
        self.lambda_bound.append(bound)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        names = self._scope_names(self.ctx.scope)
        for name in self.lambda_bound.pop():
            names.discard(name)

    # -- bindings ------------------------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.accessed.add(id(node.value))
        # `.text` of a completion choice is `.message.content` once the call became a chat call.
        if node.attr.value == "text" and id(node) not in self.done and self._from_chat_conversion(node.value):
            self._claim(node)
            plan = Fix().edit(node, edit_text_to_content)
            self.report(node, "completion choices have `.text`; the chat call returns `.message.content`",
                        FixSafety.UNSAFE, plan)

    def _part_with_empty_default(self, value: cst.BaseExpression) -> int | None:
        """``r.get("usage", {})`` of a v0 value: how many links its base keeps (see :meth:`base_of`)."""
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "get"):
            return None
        steps = get_steps(value)
        if steps is None or len(steps) != 1 or steps[0][1] is None or not isinstance(steps[0][1], cst.Dict):
            return None
        if steps[0][1].elements:
            return None
        keep = self.base_of(value.func.value)
        return keep if keep is not None and convertible(value.func.value, keep) else None

    def visit_Assign(self, node: cst.Assign) -> None:
        part = self._part_with_empty_default(node.value)
        single = len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name)
        if part is not None and single and id(node.value) not in self.done:
            name = node.targets[0].target.value  # type: ignore[attr-defined]
            self._claim(node.value)  # type: ignore[arg-type]
            self._bind(node.targets[0].target, True, node.value)
            self.optional.setdefault(id(self.ctx.scope), set()).add(name)
            self.report(node.value, "`.get()` does not exist on current response objects; use the attribute "
                        "(None where v0 gave the `{}` default: its later `.get()`s check for it)",
                        plan=Fix().edit(node.value, edit_get_part(part)))
            return
        if single:
            self.optional.get(id(self.ctx.scope), set()).discard(node.targets[0].target.value)  # type: ignore[attr-defined]
        legacy = self.is_legacy(node.value)
        producer = not legacy and self._wraps_legacy_method(node.value)
        for target in node.targets:
            self._note_dicts(target.target, node.value)
        for target in node.targets:
            self._bind(target.target, legacy, node.value)
            self._bind_unpacked(target.target, node.value)
            if isinstance(target.target, cst.Name):
                names = self.producers.setdefault(id(self.ctx.scope), set())
                (names.add if producer else names.discard)(target.target.value)
            elif isinstance(target.target, cst.Subscript) and legacy:
                self._store(target.target.value)  # cache[key] = resp

    def _bind_unpacked(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """``completion, hits = answer(q)`` where the project's ``answer`` returns a response first."""
        call = value.expression if isinstance(value, cst.Await) else value
        if not isinstance(target, cst.Tuple) or not isinstance(call, cst.Call):
            return
        for index, element in enumerate(target.elements):
            if isinstance(element, cst.Element) and isinstance(element.value, cst.Name):
                self._bind(element.value, self._project_returns_response(call.func, f"#{index}"))

    def _store(self, holder: cst.BaseExpression) -> None:
        if isinstance(holder, cst.Name):
            self.containers.setdefault(id(self.ctx.scope), set()).add(holder.value)
        elif isinstance(holder, cst.Attribute) and dotted_name(holder):
            self.attribute_containers.add(dotted_name(holder))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, self.is_legacy(node.value), node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, self.is_legacy(node.iter) or self._holds_legacy(node.iter))

    def _bind_comprehension(self, node) -> None:
        # The element of a comprehension is visited before its `for` clauses: bind their targets first.
        clause = node.for_in
        while clause is not None:
            self._bind(clause.target, self.is_legacy(clause.iter) or self._holds_legacy(clause.iter))
            clause = clause.inner_for_in

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._bind_comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._bind_comprehension(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._bind_comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._bind_comprehension(node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, self.is_legacy(node.item))

    # -- lists of plain dicts ------------------------------------------------------------------------
    def _dicts_key(self, holder: cst.BaseExpression) -> tuple[int, str] | None:
        if isinstance(holder, cst.Name):
            return id(self.ctx.scope), holder.value
        text = dotted_name(holder) if isinstance(holder, cst.Attribute) else ""
        return (0, text) if text else None

    def _note_dicts(self, holder: cst.BaseExpression, value: cst.BaseExpression, element: bool = False) -> None:
        """Remember ``holder`` as a list of plain dicts: assigned a list with a dict literal in it, or
        given one (``append({...})``)."""
        elements = [value] if element else [e.value for e in value.elements] if isinstance(value, cst.List) else []
        if any(isinstance(e, cst.Dict) for e in elements):
            key = self._dicts_key(holder)
            if key is not None:
                self.dict_lists.add(key)

    def _note_messages(self, node: cst.Call) -> None:
        """A list passed as ``messages=`` of a v0 call holds message dicts."""
        if not self._is_legacy_call(node):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "messages":
                key = self._dicts_key(arg.value)
                if key is not None:
                    self.dict_lists.add(key)

    def _keep_dicts(self, node: cst.Call) -> None:
        """``history.append(message)`` where ``history`` holds plain dicts: v0 appended a dict, and the
        rest of the program reads the list as dicts (``m["role"]``): append ``message.to_dict()``."""
        value = node.args[-1].value
        keep = self.base_of(value) or 0
        self._claim(value)
        exact = convertible(value, keep) and not scalar_field(value, LIST_FIELDS)
        plan = Fix().edit(node.args[-1], edit_arg_to_dict(keep)) if exact else None
        self.report(node, "this list holds plain dicts (v0 responses were dicts, current ones are objects): "
                    "add the response as `.to_dict()` so the list stays readable as dicts", plan=plan)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        """``{"raw": resp}``: a record of plain data, which v0 code dumps and reads as dicts."""
        if id(node.value) in self.done or not self.is_legacy(node.value):
            return
        keep = self.base_of(node.value) or 0
        if scalar_field(node.value, LIST_FIELDS):
            self.report(node, "a list of v0 response objects stored in a dict: v0 stored dicts; store "
                        "`[item.to_dict() for item in ...]` if the dict is dumped or read as plain data", FixSafety.REPORT)
            return  # its own subscripts are still rewritten
        self._claim(node.value)
        exact = convertible(node.value, keep)
        plan = Fix().edit(node, edit_element_to_dict(keep)) if exact else None
        self.report(node, "a v0 response stored in a dict was a dict (dumped and read as one); current responses "
                    "are objects: store `.to_dict()`", plan=plan)

    # -- dict-style uses ---------------------------------------------------------------------------
    def _claim(self, expr: cst.BaseExpression) -> None:
        while isinstance(expr, (cst.Subscript, cst.Attribute, cst.Call)):
            self.done.add(id(expr))
            expr = expr.func if isinstance(expr, cst.Call) else expr.value

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self.accessed.add(id(node.value))
        if id(node) in self.done or not has_string_key(node):
            return
        keep = self.base_of(node)
        if keep is None:
            self._unknown_origin(node)
            return
        if chain_depth(node) <= keep:
            return  # `cache["q1"]`: a key of the dict that holds responses
        self._claim(node)
        if string_key(node) == "text" and self._from_chat_conversion(node.value):
            self.report(node, "completion choices have `text`; the chat call returns `.message.content`",
                        FixSafety.UNSAFE, Fix().edit(node, edit_text_to_content))
            return
        access = Fix().edit(node, edit_attributes(keep)) if convertible(node, keep) else None
        self.report(node, "v0 responses were dicts; current responses are objects: use attribute access", plan=access)

    def _unknown_origin(self, node: cst.Subscript) -> None:
        """A parameter read as a response (``resp["choices"]``) whose callers the analysis cannot see."""
        root = chain_root(node)
        if not isinstance(root, cst.Name) or string_key(node) not in _RESPONSE_KEYS or not isinstance(node.value, cst.Name):
            return
        scope = self.ctx.scope
        function = scope.node
        if not isinstance(function, cst.FunctionDef) or id(function) in self.unknown_reported:
            return
        params = function.params
        if root.value not in {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}:
            return
        if scope.values.get(root.value):
            return  # reassigned in the body: not only the caller's value
        self.unknown_reported.add(id(function))
        self.report(node, f"`{root.value}` is read like a v0 response, but where it comes from is unknown: "
                    "if it is one, use attribute access (run `migrate` on the whole project to follow callers)",
                    FixSafety.REPORT)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if any(self._is_builtin(func, name) for name in _ELEMENT_CALLERS):
            iterables = [a.value for a in node.args if not isinstance(a.value, cst.Lambda)]
            if any(self.is_legacy(v) or self._is_container(v) for v in iterables):
                for arg in node.args:
                    if isinstance(arg.value, cst.Lambda):
                        self.element_lambdas.add(id(arg.value))
        if isinstance(func, cst.Attribute) and func.attr.value in ("append", "insert", "extend") and node.args:
            self._note_dicts(func.value, node.args[-1].value, func.attr.value != "extend")
        self._note_messages(node)
        if (
            isinstance(func, cst.Attribute) and func.attr.value in ("append", "insert", "add") and node.args
            and self.is_legacy(node.args[-1].value)
        ):
            key = self._dicts_key(func.value)
            if key is not None and key in self.dict_lists and id(node) not in self.done:
                self._keep_dicts(node)
                return
            self._store(func.value)
        if id(node) in self.done:
            return
        self._serialised_dict(node)
        for arg in node.args:
            if arg.star == "**" and self.is_legacy(arg.value):
                splat_keep = self.base_of(arg.value) or 0
                self._claim(arg.value)
                splat = Fix().edit(arg, edit_arg_to_dict(splat_keep)) if convertible(arg.value, splat_keep) else None
                self.report(arg, "`**` of a current response object fails (it is no mapping); splat `resp.to_dict()`", plan=splat)
        if isinstance(func, cst.Attribute) and func.attr.value in ("get", "to_dict_recursive", *_DICT_METHODS):
            receiver_keep = self.base_of(get_base(node)) if func.attr.value == "get" else self.base_of(func.value)
            receiver = func.value if func.attr.value != "get" else get_base(node)
            if receiver_keep is not None and chain_depth(receiver) >= receiver_keep:
                self._claim(node)
                self._dict_method(node, func, receiver_keep)
            return
        if not node.args or not self.is_legacy(node.args[0].value):
            return
        first = node.args[0]
        keep = self.base_of(first.value) or 0
        plan = Fix().edit(first, edit_arg_to_dict(keep)) if convertible(first.value, keep) else None
        if self.ctx.resolve(func) in ("json.dumps", "json.dump"):
            self.report(node, "current responses are not JSON-serialisable dicts; dump `resp.to_dict()`", plan=plan)
        elif self._is_builtin(func, "dict") and len(node.args) == 1:
            plan = Fix().edit(node, edit_call_to_dict(keep)) if plan else None
            self.report(node, "`dict(resp)` is shallow on current responses; use `resp.to_dict()`", plan=plan)

    def _serialised_dict(self, node: cst.Call) -> None:
        """``jsonify({"usage": resp["usage"]})`` / ``json.dumps({...})``: response parts inside a dict
        literal handed to a JSON serialiser are dumped with ``to_dict()``."""
        callee = self.ctx.resolve(node.func) or ""
        if not node.args or not (callee in ("json.dumps", "json.dump") or callee.rsplit(".", 1)[-1] == "jsonify"):
            return
        literal = node.args[0].value
        if not isinstance(literal, cst.Dict):
            return
        for element in literal.elements:
            if not isinstance(element, cst.DictElement) or not _object_valued(element.value) or not self.is_legacy(element.value):
                continue  # strings and numbers serialise as they are
            keep = self.base_of(element.value) or 0
            self._claim(element.value)
            self.done.add(id(element.value))  # one fix per element (visit_DictElement would add a second)
            plan = Fix().replace(element.value, to_dict(element.value, keep)) if convertible(element.value, keep) else None
            self.report(element.value, "current responses are not JSON-serialisable dicts; dump `part.to_dict()`", plan=plan)

    def _dict_method(self, node: cst.Call, func: cst.Attribute, keep: int) -> None:
        method = func.attr.value
        if method == "to_dict_recursive":
            plan = Fix().edit(node, edit_method_name("to_dict"))
            self.report(node, "`.to_dict_recursive()` is gone; use `.to_dict()`", plan=plan)
            return
        if method in _DICT_METHODS:
            dump = None
            if not node.args and convertible(func.value, keep):
                dump = Fix().edit(node, edit_receiver_to_dict(keep))
            self.report(node, f"current response objects have no `.{method}()`; use `.to_dict().{method}()`", plan=dump)
            return
        steps = get_steps(node)
        base = get_base(node)
        fixable = steps is not None and convertible(base, keep) and (
            len(steps) == 1 or pure(base)
        ) and (id(node) not in self.accessed or steps[-1][1] is None)
        inner: cst.BaseExpression = node
        while isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value == "get":
            self._claim(inner)
            inner = inner.func.value
        if fixable and steps is not None and len(steps) == 1 and steps[0][1] is not None and not pure(base):
            fixable = string_value(steps[0][1]) == ""  # only the `or` form evaluates the receiver once
        root = chain_root(base)
        optional = keep == 0 and isinstance(root, cst.Name) and base is root and root.value in self.optional.get(
            id(self.ctx.scope), ())
        chain = Fix().edit(node, edit_get_chain(keep, optional)) if fixable else None
        self.report(node, "`.get()` does not exist on current response objects; use attribute access", plan=chain)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)) and self.is_legacy(target.comparator):
                keep = self.base_of(target.comparator) or 0
                fixable = (
                    len(node.comparisons) == 1 and membership(node, keep) is not None
                    and convertible(target.comparator, keep) and chain_depth(target.comparator) >= keep
                )
                test = Fix().edit(node, edit_membership(keep)) if fixable else None
                self.report(
                    node,
                    "`in` on a current response object is always False (it iterates over field tuples); "
                    "test the attribute instead",
                    plan=test,
                )
