"""OAI202: module-level v0 configuration that has no equivalent any more."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.openai_v0.catalog import CONFIG_REMOVED


class RemovedConfigGlobal(Rule):
    """## What it does
    Finds `openai.proxy`, `openai.api_key_path`, `openai.requestssession`, `openai.aiosession`,
    `openai.debug`, `openai.log`, `openai.verify_ssl_certs`, `openai.app_info`,
    `openai.ca_bundle_path` and `openai.enable_telemetry`, assigned or read.

    ## Why is this bad?
    None of them exists in openai>=1.0. Assigning one raises nothing and does nothing (a proxy that is
    silently not used); reading one raises `AttributeError`.

    ## Example
    ```python
    openai.proxy = "http://proxy.internal:3128"
    ```

    Use instead:
    ```python
    client = OpenAI(http_client=openai.DefaultHttpx2Client(proxy="http://proxy.internal:3128"))
    ```

    ## Fix safety
    Report-only: the fix leaves a `# TODO(migrate)` comment saying what to do instead.
    """

    valid = (
        "import openai\nopenai.base_url = 'http://x'",
        "import logging\nlogging.log(1, 'x')",
        "from openai import OpenAI\nclient = OpenAI()\nclient.debug = True",
    )
    invalid = (
        Invalid("import openai\nopenai.proxy = 'http://p:3128'"),
        Invalid("import openai\nopenai.api_key_path = '/etc/key'\nopenai.log = 'debug'", 2),
        Invalid("import openai\nimport requests\nopenai.requestssession = requests.Session()"),
        Invalid("import openai\nif openai.verify_ssl_certs:\n    pass"),
    )

    def visit_Attribute(self, node: cst.Attribute) -> None:
        qualname = self.ctx.reference(node)
        if qualname and qualname.startswith("openai.") and qualname.count(".") == 1:
            name = qualname[len("openai."):]
            if name in CONFIG_REMOVED:
                self.report(node, f"`openai.{name}` no longer exists (setting it does nothing): {CONFIG_REMOVED[name]}")
