"""OAI401: per-call keyword arguments of v0 methods that the current SDK rejects."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.openai_v0.catalog import is_legacy_api_call
from migrator.rules.types import FixSafety

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
    invalid = (
        Invalid("import openai\nopenai.ChatCompletion.create(model='m', messages=[], request_timeout=30)"),
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
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in LEGACY_KWARGS:
                advice, fix = LEGACY_KWARGS[arg.keyword.value]
                self.report(arg, f"`{arg.keyword.value}=` is not accepted by the current SDK; {advice}", fix)
