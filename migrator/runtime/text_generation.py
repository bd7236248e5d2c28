"""A drop-in for ``transformers.pipeline("text-generation", model=...)`` that calls a provider.

Same call signature for what GPT-2 tutorials use (a prompt or a list of prompts, ``max_new_tokens`` /
``max_length``, ``num_return_sequences``, ``do_sample``, ``temperature``, ``top_p``,
``return_full_text``) and the same return shape (``[{"generated_text": ...}]``, a list of such lists for a
list of prompts). With ``MIGRATE_BACKEND=local`` it runs the local model as a raw continuation, exactly as
the pipeline would; otherwise it asks the target's chat model through the openai SDK.
"""

from __future__ import annotations

import os

DEFAULT_MAX_NEW_TOKENS = 50


class TextGenerationPipeline:
    def __init__(self, target: str, client=None) -> None:
        from migrator.targets import parse_target

        self.target = parse_target(target)
        self._client = client

    @property
    def local(self) -> bool:
        return os.environ.get("MIGRATE_BACKEND", "").lower() == "local"

    def client(self):
        if self._client is not None:
            return self._client
        if self.local:
            from migrator.runtime.client import local_client

            return local_client()
        import openai

        provider = self.target.provider
        if os.environ.get("MIGRATE_BACKEND_URL"):
            return openai.OpenAI(base_url=os.environ["MIGRATE_BACKEND_URL"], api_key=os.environ.get(provider.key_env, "local"))
        if provider.template == "azure":
            return openai.AzureOpenAI(azure_endpoint=os.environ[provider.endpoint_env], api_key=os.environ[provider.key_env],
                                      api_version=provider.api_version)
        return openai.OpenAI(base_url=provider.base_url or None, api_key=os.environ[provider.key_env])

    def __call__(self, text_inputs, max_new_tokens: int | None = None, max_length: int | None = None,
                 num_return_sequences: int = 1, do_sample: bool | None = None, temperature: float | None = None,
                 top_p: float | None = None, return_full_text: bool = True, **_generate_kwargs):
        single = isinstance(text_inputs, str)
        prompts = [text_inputs] if single else list(text_inputs)
        client = self.client()
        results = [
            self._one(client, prompt, max_new_tokens, max_length, num_return_sequences, do_sample, temperature, top_p,
                      return_full_text)
            for prompt in prompts
        ]
        return results[0] if single else results

    def _one(self, client, prompt, max_new_tokens, max_length, n, do_sample, temperature, top_p, full_text):
        if max_new_tokens is None and max_length is not None:
            # max_length counted the prompt; remote tokenizers are unknown, so the local one stands in.
            used = self._prompt_tokens(prompt) if self.local else 0
            max_new_tokens = max(1, max_length - used)
        sampling = {"temperature": 0.0 if not do_sample else (1.0 if temperature is None else temperature)}
        if top_p is not None and do_sample:
            sampling["top_p"] = top_p
        limit = max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        if self.local:
            reply = client.completions.create(model=self.target.model, prompt=prompt, max_tokens=limit, n=n, **sampling)
            texts = [choice.text for choice in reply.choices]
        else:
            reply = client.chat.completions.create(model=self.target.model, messages=[{"role": "user", "content": prompt}],
                                                   max_tokens=limit, n=n, **sampling)
            texts = [choice.message.content or "" for choice in reply.choices]
        return [{"generated_text": prompt + text if full_text else text} for text in texts]

    def _prompt_tokens(self, prompt: str) -> int:
        from migrator.runtime.backend import shared_backend

        return len(shared_backend().encode(prompt))


def text_generation_pipeline(target: str, client=None) -> TextGenerationPipeline:
    """``text_generation_pipeline("anthropic:claude-sonnet-4-5")("Once upon a time", max_new_tokens=40)``."""
    return TextGenerationPipeline(target, client=client)
