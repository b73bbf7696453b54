"""Tiny random-weight Llama models with a freshly trained BPE tokenizer, saved like a Hub model.

They load through the same from_pretrained path as real models, with no network. Their answers
are noise: they exist for the demo and the tests, where speed and plumbing matter, not accuracy.
"""

from __future__ import annotations

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


def train_tokenizer(lines: list[str], vocab_size: int = 600):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)  # its bars printed blank lines before the demo's output
    tok.train_from_iterator(lines, trainer=trainer)
    from tokenizers.processors import TemplateProcessing

    tok.post_processor = TemplateProcessing(single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", pad_token="<pad>")


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
    shape = ARCHS[arch] if arch else dict(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 4, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=4096)
    config = LlamaConfig(**shape, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, tie_word_embeddings=True,
                         # tiny models: wide weights for varied tokens and EOS now and then; real
                         # architectures: the usual init, so 30 layers of activations stay finite
                         initializer_range=0.02 if arch else 0.5)
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
