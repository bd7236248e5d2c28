"""Client construction code for a target, rendered from templates/clients/*.py.j2."""

from __future__ import annotations

from migrator.targets.registry import Provider
from migrator.templating import render


def client_class(provider: Provider, is_async: bool) -> str:
    base = "AzureOpenAI" if provider.template == "azure" else "OpenAI"
    return f"Async{base}" if is_async else base


def client_code(provider: Provider, is_async: bool = False) -> str:
    """E.g. ``OpenAI(base_url="https://api.anthropic.com/v1/", api_key=os.environ["ANTHROPIC_API_KEY"])``."""
    if provider.kind != "api":
        raise ValueError(f"{provider.name} is not an API provider")
    text = render(f"clients/{provider.template}.py.j2", provider=provider, class_name=client_class(provider, is_async))
    return text.strip()
