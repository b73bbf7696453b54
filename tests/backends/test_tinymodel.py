"""The tiny random models: `write` (the demo's, numpy and safetensors only) makes the same model as
`build` (transformers) without importing torch or transformers, and it loads and generates through
the same from_pretrained path as a Hub model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import ROOT

from bench.backends import tinymodel

LINES = ["The quick brown fox answers support tickets.", "Total: 12.50 EUR", "SELECT 1;"] * 40
SHAPE = dict(hidden=32, layers=2, heads=4)
SAME = ("architectures", "model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
        "num_attention_heads", "num_key_value_heads", "max_position_embeddings", "bos_token_id", "eos_token_id",
        "pad_token_id", "tie_word_embeddings", "initializer_range", "hidden_act", "rms_norm_eps")


def _tensors(folder: Path) -> dict:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def test_write_imports_neither_torch_nor_transformers(tmp_path):
    code = ("import sys; from pathlib import Path; from bench.backends import tinymodel; "
            f"tinymodel.write(Path(sys.argv[1]), tinymodel.bpe({LINES!r}, 300), hidden=32, layers=2, heads=4); "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m")], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert (tmp_path / "m" / "model.safetensors").is_file()


def test_write_makes_the_model_build_makes(tmp_path):
    built = tinymodel.build(tmp_path / "built", LINES, vocab_size=300, **SHAPE)
    written = tinymodel.write(tmp_path / "written", tinymodel.bpe(LINES, 300), **SHAPE)
    b, w = (json.loads((p / "config.json").read_text()) for p in (built, written))
    assert {k: w.get(k) for k in SAME} == {k: b.get(k) for k in SAME}
    tb, tw = _tensors(built), _tensors(written)
    assert {k: v.shape for k, v in tw.items()} == {k: v.shape for k, v in tb.items()}
    assert json.loads((written / "tokenizer.json").read_text())["model"] == json.loads(
        (built / "tokenizer.json").read_text())["model"]  # the same BPE from the same lines
    embed, pad, eos = tw["model.embed_tokens.weight"], b["pad_token_id"], b["eos_token_id"]
    assert not embed[pad].any()  # the padding row is zero, as transformers initialises it
    others = np.delete(embed, [pad, eos], axis=0)
    assert abs(others.std() - 0.5) < 0.02 and abs(tw["model.layers.0.mlp.up_proj.weight"].std() - 0.5) < 0.02
    typical = np.linalg.norm(others, axis=1).mean()
    assert 1.3 < np.linalg.norm(embed[eos]) / typical < 1.9  # eos_boost 1.6
    assert (tw["model.norm.weight"] == 1).all() and (tw["model.layers.1.input_layernorm.weight"] == 1).all()


def test_a_written_model_loads_and_generates_like_a_hub_model(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tinymodel.write(tmp_path / "m", tinymodel.bpe(LINES, 300), seed=3, **SHAPE)
    model, info = AutoModelForCausalLM.from_pretrained(folder, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()  # tied
    assert model.generation_config.eos_token_id == 2 and model.generation_config.pad_token_id == 3
    tok = AutoTokenizer.from_pretrained(folder)
    assert (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id) == (1, 2, 3)
    text = tok.apply_chat_template([{"role": "user", "content": "Total?"}], tokenize=False, add_generation_prompt=True)
    assert text == "<s><|user|>\nTotal?<|end|>\n<|assistant|>\n"
    tok.padding_side = "left"
    enc = tok(["Total: 12.50 EUR", "SELECT"], return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=6, do_sample=False)
    assert out.shape[0] == 2 and out.shape[1] > enc["input_ids"].shape[1]
    assert torch.isfinite(model(**enc).logits).all()
