"""Checks before a model loads (bench/prepare/preflight.py) and the local backend's own context-length
guard; the command-line cases (exit 2, file, line and key) are in tests/config/test_config.py."""

from __future__ import annotations

import json
import shutil

import pytest

from bench.prepare.preflight import device_problem


def test_device_messages():
    assert device_problem("cuda:7", 0, False) == "this machine has no CUDA GPU; use cpu (or auto)"
    assert device_problem("cuda", 0, False).startswith("this machine has no CUDA GPU")
    assert device_problem("cuda:7", 2, False) == "this machine has 2 GPUs: cuda:0, cuda:1"
    assert device_problem("cuda:1", 1, False) == "this machine has 1 GPU: cuda:0"
    assert device_problem("mps", 0, False).startswith("this machine has no MPS device")


def test_devices_the_machine_has_pass():
    assert device_problem("cuda:1", 2, False) is None
    assert device_problem("cuda", 1, False) is None
    assert device_problem("mps", 0, True) is None
    assert device_problem("cpu", 0, False) is None


def test_a_prompt_and_max_new_tokens_beyond_the_context_length_fail_the_batch(tiny_models, tmp_path):
    # the static check knows only max_new_tokens; the prompt's length is known once the tokenizer is loaded
    pytest.importorskip("torch")
    from bench.backends.base import Request
    from bench.backends.transformers import TransformersBackend
    from bench.config import TransformersModel

    folder = tmp_path / "short"
    shutil.copytree(tiny_models["tiny-chat"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["max_position_embeddings"] = 40
    (folder / "config.json").write_text(json.dumps(config))
    backend = TransformersBackend(TransformersModel(backend="transformers", model=str(folder), device="cpu"))
    backend.load()
    assert backend.context_tokens == 40
    messages = [{"role": "user", "content": "Ticket: charged twice"}]
    width = backend.encode([Request("a", messages, 8, ())])["input_ids"].shape[1]
    assert 8 < width < 40
    with pytest.raises(ValueError, match=f"a prompt of {width} tokens plus max_new_tokens {41 - width} exceed "
                                         f"the model's context length of 40 tokens"):
        backend.generate_batch([Request("a", messages, 41 - width, ())])
    (done,) = backend.generate_batch([Request("a", messages, 40 - width, ())])  # exactly full: allowed
    assert done.output_tokens <= 40 - width
