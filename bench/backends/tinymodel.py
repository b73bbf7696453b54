"""Tiny random-weight Llama models with a freshly trained BPE tokenizer, saved like a Hub model.

They load through the same from_pretrained path as real models, with no network. Their answers
are noise: they exist for the demo and the tests, where speed and plumbing matter, not accuracy.
`build` makes them with transformers (the tests' models, and real architectures); `write` writes
the same files with numpy and safetensors alone, for `bench demo`, whose process then never
imports torch or transformers (seconds of its start on a small machine: benchmarks/demo_time.py).
"""

from __future__ import annotations

import json
from pathlib import Path

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIAL = ["<unk>", "<s>", "</s>", "<pad>", "<|end|>"]

# real architectures, for speed and memory measurements (which do not depend on weight values)
ARCHS = {
    "smollm2-135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, vocab_size=49152, rope_theta=100000.0, max_position_embeddings=8192),
    "smollm2-1.7b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=24, num_attention_heads=32,
                         num_key_value_heads=32, vocab_size=49152, rope_theta=130000.0, max_position_embeddings=8192),
}


def bpe(lines: list[str], vocab_size: int = 600):
    """A byte-level BPE `tokenizers.Tokenizer` trained on the lines, SPECIAL first (ids 0 to 4), a
    BOS before every text. No transformers import."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)  # its bars printed blank lines before the demo's output
    tok.train_from_iterator(lines, trainer=trainer)
    from tokenizers.processors import TemplateProcessing

    tok.post_processor = TemplateProcessing(single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", 1)])
    return tok


def train_tokenizer(lines: list[str], vocab_size: int = 600):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=bpe(lines, vocab_size), unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", pad_token="<pad>")


def _config(shape: dict, tok_ids: dict[str, int], real: bool) -> dict:
    """The LlamaConfig fields of a tiny model (shape: its size; tok_ids: bos, eos and pad)."""
    return dict(**shape, bos_token_id=tok_ids["bos"], eos_token_id=tok_ids["eos"], pad_token_id=tok_ids["pad"],
                tie_word_embeddings=True,
                # tiny models: wide weights for varied tokens and EOS now and then; real
                # architectures: the usual init, so 30 layers of activations stay finite
                initializer_range=0.02 if real else 0.5)


def _tiny_shape(vocab: int, hidden: int, layers: int, heads: int) -> dict:
    return dict(vocab_size=vocab, hidden_size=hidden, intermediate_size=hidden * 4, num_hidden_layers=layers,
                num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=4096)


def build(out_dir: Path, lines: list[str], *, hidden: int = 64, layers: int = 2, heads: int = 4,
          chat_template: bool = True, seed: int = 0, vocab_size: int = 600,
          eos_boost: float = 1.6, arch: str | None = None) -> Path:
    """Write a random-weight Llama model and its tokenizer to out_dir and return it. With `arch`
    (a key of ARCHS) the model has that real architecture; the tokenizer stays small (ids it does
    not know decode to nothing)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    tok = train_tokenizer(lines, vocab_size)
    if chat_template:
        tok.chat_template = CHAT_TEMPLATE
    shape = ARCHS[arch] if arch else _tiny_shape(len(tok), hidden, layers, heads)
    config = LlamaConfig(**_config(shape, {"bos": tok.bos_token_id, "eos": tok.eos_token_id,
                                           "pad": tok.pad_token_id}, real=arch is not None))
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # a longer EOS vector: rows end by EOS at varied lengths, as real ones do
        model.model.embed_tokens.weight[tok.eos_token_id] *= eos_boost
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return out_dir


def write(out_dir: Path, tok, *, hidden: int = 64, layers: int = 2, heads: int = 4, seed: int = 0,
          eos_boost: float = 1.6) -> Path:
    """A tiny model like build()'s (the same tensors, config and initialisation: weights drawn
    from N(0, 0.5), the padding row zero, norms one, the EOS row longer; the chat template in
    tokenizer_config.json), from a tokenizer made by bpe(), written with numpy and safetensors: no
    torch or transformers import. Its weights differ from build()'s for the same seed (another
    random generator)."""
    import numpy as np
    from safetensors.numpy import save_file

    ids = {k: tok.token_to_id(t) for k, t in (("bos", "<s>"), ("eos", "</s>"), ("pad", "<pad>"))}
    vocab = tok.get_vocab_size(with_added_tokens=True)
    config = _config(_tiny_shape(vocab, hidden, layers, heads), ids, real=False)
    rng, std = np.random.default_rng(seed), config["initializer_range"]

    def normal(*shape: int):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)

    embed = normal(vocab, hidden)
    embed[ids["pad"]] = 0.0  # nn.Embedding's padding_idx row, as transformers initialises it
    embed[ids["eos"]] *= eos_boost  # rows end by EOS at varied lengths, as real ones do
    weights = {"model.embed_tokens.weight": embed, "model.norm.weight": np.ones(hidden, np.float32)}
    inner = 4 * hidden
    for i in range(layers):
        at = f"model.layers.{i}."
        weights |= {at + "input_layernorm.weight": np.ones(hidden, np.float32),
                    at + "post_attention_layernorm.weight": np.ones(hidden, np.float32),
                    **{f"{at}self_attn.{p}_proj.weight": normal(hidden, hidden) for p in "qkvo"},
                    at + "mlp.gate_proj.weight": normal(inner, hidden), at + "mlp.up_proj.weight": normal(inner, hidden),
                    at + "mlp.down_proj.weight": normal(hidden, inner)}
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    files = {"config.json": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
                             "rms_norm_eps": 1e-6, **config},
             "generation_config.json": {"bos_token_id": ids["bos"], "eos_token_id": ids["eos"],
                                        "pad_token_id": ids["pad"]},
             "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>",
                                       "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
                                       "chat_template": CHAT_TEMPLATE}}
    for name, content in files.items():
        (out_dir / name).write_text(json.dumps(content, indent=2), encoding="utf-8")
    tok.save(str(out_dir / "tokenizer.json"))
    return out_dir
