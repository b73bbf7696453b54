"""Shared fixtures: tiny random-weight models built once per session, saved like Hub models and
loaded through the same from_pretrained path; nothing touches the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / "tasks"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Two tiny models: one with a chat template, one without (plain prompts)."""
    from bench import demo
    from bench.backends import tinymodel

    lines = demo.corpus(TASKS)
    base = tmp_path_factory.mktemp("models")
    return {
        "tiny-chat": tinymodel.build(base / "tiny-chat", lines, hidden=64, layers=2, heads=4, seed=0,
                                     eos_boost=1.3),
        "tiny-plain": tinymodel.build(base / "tiny-plain", lines, hidden=96, layers=3, heads=4, seed=1, eos_boost=2.0,
                                      chat_template=False),
    }


def write_models_toml(path: Path, models: dict[str, Path], batch_size: int = 4, extra: str = "") -> Path:
    lines = ["[hardware.ci]", "usd_per_hour = 0.5", ""]
    for name, model in models.items():
        lines += [f"[models.{name}]", 'backend = "transformers"', f'model = "{model}"', 'device = "cpu"',
                  f"batch_size = {batch_size}", 'hardware = "ci"', ""]
    path.write_text("\n".join(lines) + extra, encoding="utf-8")
    return path
