"""Tiny random-weight models built offline, for the runtime tests: a byte-level BPE tokenizer trained
on a few KB of text, and small GPT-2 (and Llama) configs, saved with save_pretrained."""

from __future__ import annotations

from pathlib import Path

SUBJECTS = ["The robot", "A small model", "The test suite", "Our server", "The tokenizer", "A careful user"]
VERBS = ["answers", "reads", "writes", "checks", "streams", "counts", "migrates", "explains"]
OBJECTS = ["the question", "every token", "a short reply", "the legacy code", "each request", "the stop word"]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def corpus() -> str:
    lines = [f"{s} {v} {o}." for s in SUBJECTS for v in VERBS for o in OBJECTS]
    return "\n".join(lines)


def _tokenizer(workdir: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GPT2TokenizerFast

    text_file = workdir / "corpus.txt"
    text_file.write_text(corpus())
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=600, min_frequency=2, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train([str(text_file)], trainer)
    return GPT2TokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                             unk_token="<|endoftext|>")


def build_tiny_gpt2(out: Path, with_chat_template: bool = False, seed: int = 0) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(out)
    if with_chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=64, vocab_size=len(tokenizer), n_positions=256,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "corpus.txt").unlink()
    return out


def build_tiny_llama(out: Path, seed: int = 0) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(out)
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=256,
                         bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "corpus.txt").unlink()
    return out


# The shape of Llama 3.x Instruct's template: header tokens around each role, <|eot_id|> after each turn,
# and the assistant header as the generation prompt.
LLAMA3_CHAT_TEMPLATE = (
    "{{- bos_token }}{% for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
LLAMA3_SPECIAL_TOKENS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


def build_tiny_chat_llama(out: Path, seed: int = 0) -> Path:
    """A tiny random Llama shaped like an instruction model: Llama 3 special tokens and chat template,
    ``<|eot_id|>`` as end of turn, no pad token."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    base = _tokenizer(out).backend_tokenizer
    base.add_special_tokens(LLAMA3_SPECIAL_TOKENS)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=base, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    tokenizer.chat_template = LLAMA3_CHAT_TEMPLATE
    torch.manual_seed(seed)
    eos = tokenizer.convert_tokens_to_ids("<|eot_id|>")
    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=eos)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "corpus.txt").unlink()
    return out


def _wide_tokenizer(workdir: Path, vocab_size: int):
    """A byte-level BPE with GPT-2's vocabulary size, trained on the corpus plus random words, so the
    output projection costs what GPT-2's does."""
    import random

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GPT2TokenizerFast

    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(60000)]
    lines = [corpus()] + [" ".join(words[i:i + 100]) for i in range(0, len(words), 100)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=1, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(lines, trainer)
    return GPT2TokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                             unk_token="<|endoftext|>")


def _save_gpt2(out: Path, tokenizer, seed: int, **shape) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(tokenizer), bos_token_id=tokenizer.eos_token_id,
                        eos_token_id=tokenizer.eos_token_id, **shape)
    GPT2LMHeadModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_slow_gpt2(out: Path, seed: int = 0) -> Path:
    """A random GPT-2 slow enough on CPU (a few ms a token) for tests to tell streamed chunks from a
    finished answer, with a 1024-token context for long generations."""
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(out)
    (out / "corpus.txt").unlink()
    return _save_gpt2(out, tokenizer, seed, n_layer=4, n_head=4, n_embd=256, n_positions=1024)


def build_gpt2_sized(out: Path, seed: int = 0) -> Path:
    """A random-init model of GPT-2 small's shape (12 layers, 768 wide, 12 heads, 1024 positions, a
    50,257-token vocabulary), built offline, for benchmarks."""
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _wide_tokenizer(out, 50257)
    return _save_gpt2(out, tokenizer, seed, n_layer=12, n_head=12, n_embd=768, n_positions=1024)
