"""OAI101: calls of the v0 resource classes (``openai.ChatCompletion.create`` and friends)."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.openai_v0.catalog import current_method, describe, legacy_call


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
    invalid = (
        Invalid("import openai\nopenai.ChatCompletion.create(model='gpt-4', messages=[])"),
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
        use = f"`await aclient.{path}(...)`" if is_async else f"`client.{path}(...)`"
        self.report(node, f"`{describe(resource, method)}` was removed in openai 1.0; use {use}")
