"""HF212: code that reaches into GPT-2's modules, config names or cache format."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.transformers_v4.chat import hf_target_model
from migrator.targets import model_info

# GPT-2 name -> (what it is, the Llama-family name, the Phi-3 name). Keys are "<parent>.<attr>" for
# module paths (the parent attribute must match) and ".<attr>" for names that are GPT-2's wherever read.
_LLAMA, _PHI3 = 0, 1
NAMES: dict[str, tuple[str, tuple[str, str]]] = {
    "transformer.h": ("the list of decoder layers", ("model.model.layers", "model.model.layers")),
    "transformer.wte": ("the token embedding", ("model.model.embed_tokens (or model.get_input_embeddings())",
                                                "model.model.embed_tokens (or model.get_input_embeddings())")),
    "transformer.wpe": ("the learned position embedding", ("nothing: positions are rotary (RoPE), there is no table",
                                                           "nothing: positions are rotary (RoPE), there is no table")),
    "transformer.ln_f": ("the final layer norm", ("model.model.norm", "model.model.norm")),
    "h.attn": ("a block's attention module", ("self_attn", "self_attn")),
    "attn.c_attn": ("the fused query/key/value projection", ("self_attn.q_proj, k_proj and v_proj (separate)",
                                                             "self_attn.qkv_proj (fused, in a different layout)")),
    "attn.c_proj": ("the attention output projection", ("self_attn.o_proj", "self_attn.o_proj")),
    "mlp.c_fc": ("the MLP input projection", ("mlp.gate_proj and mlp.up_proj (gated)", "mlp.gate_up_proj (fused, gated)")),
    "mlp.c_proj": ("the MLP output projection", ("mlp.down_proj", "mlp.down_proj")),
    ".ln_1": ("a block's first layer norm", ("input_layernorm", "input_layernorm")),
    ".ln_2": ("a block's second layer norm", ("post_attention_layernorm", "post_attention_layernorm")),
    ".n_positions": ("the context length", ("config.max_position_embeddings", "config.max_position_embeddings")),
    ".n_ctx": ("the context length", ("config.max_position_embeddings", "config.max_position_embeddings")),
    ".n_layer": ("the number of layers", ("config.num_hidden_layers", "config.num_hidden_layers")),
    ".n_head": ("the number of attention heads", ("config.num_attention_heads (and num_key_value_heads)",
                                                  "config.num_attention_heads (and num_key_value_heads)")),
    ".n_embd": ("the hidden size", ("config.hidden_size", "config.hidden_size")),
}


class Gpt2Internals(Rule):
    """## What it does
    With an `hf:` target, finds code that reads GPT-2's internals: its modules (`model.transformer.h`,
    `transformer.wte`, `wpe`, `ln_f`, `attn.c_attn`, `c_proj`, `mlp.c_fc`, `ln_1`/`ln_2`), its config names
    (`n_positions`, `n_ctx`, `n_layer`, `n_head`, `n_embd`), the legacy `past=` argument and tuple caches,
    and `GPT2Model` hidden states used as embeddings. Each finding names what the target calls it.

    ## Why is this bad?
    Other architectures name and shape these differently (Llama-family models: `model.model.layers`,
    separate `q_proj`/`k_proj`/`v_proj`, rotary positions with no position table,
    `config.max_position_embeddings`); the code raises `AttributeError` or, worse, reads something else.
    Caches are `Cache` objects, not tuples of tensors.

    ## Example
    ```python
    for block in model.transformer.h:
        block.attn.c_attn.register_forward_hook(hook)
    context = model.config.n_positions
    ```

    Use instead (`--target hf:meta-llama/Llama-3.1-8B-Instruct`):
    ```python
    for block in model.model.layers:
        block.self_attn.q_proj.register_forward_hook(hook)
    context = model.config.max_position_embeddings
    ```

    ## Fix safety
    Report-only: layouts differ (fused versus separate projections), so no rename is exact.
    """

    valid = (
        "from transformers import AutoModelForCausalLM\nlayers = model.model.layers",
        "import torch\nx = model.transformer.h",
    )
    invalid = (
        Invalid(
            'from transformers import AutoModelForCausalLM\n'
            'layers = model.transformer.h',
            1, options={"target": "hf:meta-llama/Llama-3.1-8B-Instruct"}),
        Invalid(
            'from transformers import AutoModelForCausalLM\n'
            'layers = model.transformer.h',
            0),  # no finding without an hf: target
    )

    def _names(self, model: str) -> int:
        info = model_info(model)
        return _PHI3 if info is not None and info.architecture == "phi3" else _LLAMA

    def visit_Attribute(self, node: cst.Attribute) -> None:
        model = hf_target_model(self.ctx)
        if model is None:
            return
        attr = node.attr.value
        value = node.value
        parent = value.attr.value if isinstance(value, cst.Attribute) else value.value if isinstance(value, cst.Name) else ""
        key = f"{parent}.{attr}" if f"{parent}.{attr}" in NAMES else f".{attr}"
        if key in NAMES:
            what, names = NAMES[key]
            shown = key.lstrip(".")
            self.report(node, f"`{shown}` is {what} in GPT-2; {model!r} has {names[self._names(model)]}")
        elif attr == "last_hidden_state" and self._uses_gpt2_model():
            self.report(node, f"GPT-2 hidden states used as text embeddings; {model!r} is a chat model: use an "
                              "embedding model (sentence-transformers, or an embeddings API)")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        model = hf_target_model(self.ctx)
        value = node.value
        if model is not None and isinstance(value, cst.Attribute) and value.attr.value in ("past_key_values", "past"):
            self.report(node, f"reads the cache as GPT-2's tuple of tensors; {model!r} returns a Cache object: use its "
                              "methods (get_seq_length(), layers[i].keys, layers[i].values)")

    def visit_Arg(self, node: cst.Arg) -> None:
        model = hf_target_model(self.ctx)
        if model is not None and node.keyword is not None and node.keyword.value == "past":
            self.report(node, f"`past=` was GPT-2's cache argument; {model!r} takes `past_key_values=` (a Cache object)")

    def _uses_gpt2_model(self) -> bool:
        return any(q.endswith(".GPT2Model") for s in self.ctx.index.scopes.values() for q in s.imports.values())
