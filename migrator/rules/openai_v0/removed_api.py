"""OAI102: v0 APIs that have no equivalent in the current SDK."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.openai_v0.catalog import (
    REMOVED_METHODS,
    REMOVED_RESOURCES,
    RESOURCES,
    current_method,
    describe,
    split_qualname,
)


class RemovedApi(Rule):
    """## What it does
    Finds uses of v0 APIs that were removed without a drop-in replacement: `openai.Edit`,
    `openai.FineTune`, `openai.Engine`, `openai.Customer`, `openai.Deployment`, `openai.ErrorObject`,
    and methods such as `openai.File.find_matching_files` or `openai.FineTuningJob.delete`.

    ## Why is this bad?
    Calling them raises `APIRemovedInV1` under openai>=1.0, and the server-side APIs behind some of
    them (edits, legacy fine-tunes) are gone too.

    ## Example
    ```python
    openai.Edit.create(model="text-davinci-edit-001", input=text, instruction="Fix the spelling")
    ```

    Use instead:
    ```python
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Fix the spelling"}, {"role": "user", "content": text}],
    )
    ```

    ## Fix safety
    Report-only: the replacement changes what the program asks for, so a human decides. The finding
    names the replacement where one exists.
    """

    valid = (
        "import openai\nopenai.ChatCompletion.create(model='m', messages=[])",
        "from openai import OpenAI\nOpenAI().fine_tuning.jobs.create(model='m', training_file='f')",
        "from myproject import openai\nopenai.Edit.create()",
    )
    invalid = (
        Invalid("import openai\nopenai.Edit.create(model='m', input='x', instruction='y')"),
        Invalid("import openai\nopenai.FineTune.create(training_file='f')\nopenai.Engine.list()", 2),
        Invalid("from openai import Deployment\nDeployment.list()"),
        Invalid("import openai\nopenai.File.find_matching_files(name='n', bytes=1, purpose='p')"),
        Invalid("import openai as o\nhandler = o.Customer"),
    )

    def _visit_reference(self, node: cst.BaseExpression) -> None:
        split = split_qualname(self.ctx.reference(node))
        if split is None:
            return
        resource, method = split
        if method is None and id(node) in self.ctx.inner:
            return  # reported (or cleared) at the enclosing attribute
        if resource in REMOVED_RESOURCES:
            self.report(node, f"`{describe(resource, method)}` was removed: {REMOVED_RESOURCES[resource]}")
        elif method is not None and resource in RESOURCES and current_method(resource, method) is None:
            advice = REMOVED_METHODS.get((resource, method), "it has no equivalent in the current SDK")
            self.report(node, f"`{describe(resource, method)}` was removed: {advice}")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._visit_reference(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._visit_reference(node)
