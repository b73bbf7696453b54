"""Where a local model's files are on this machine, read without loading or downloading anything:
its folder (relative to models.toml) or Hub id, its config.json and the context length it states.
The config checks (`bench validate`) and the transformers backend both read them here."""

from __future__ import annotations

from pathlib import Path


def model_location(model: str, base: Path) -> str:
    """A local folder named relative to models.toml, or else the Hub id as written."""
    path = Path(model) if Path(model).is_absolute() else base / model
    return str(path) if path.is_dir() else model


# where a config.json states the context length (positions the model can attend to), by family
CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx")


def context_length(config: dict) -> tuple[int, str] | None:
    """The context length in tokens from a model's config.json (or a multimodal model's
    text_config), and the key it came from; None when the config does not say."""
    for prefix, cfg in (("", config), ("text_config.", config.get("text_config"))):
        if isinstance(cfg, dict):
            for key in CONTEXT_KEYS:
                value = cfg.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    return value, prefix + key
    return None


def config_file(model: str, revision: str, base: Path) -> Path | None:
    """The model's config.json if it is on this machine (a local folder, or the Hub cache); never
    downloads."""
    location = Path(model_location(model, base))
    if location.is_dir():
        return location / "config.json" if (location / "config.json").is_file() else None
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model, "config.json", revision=revision)
    except Exception:  # a malformed id: the load reports it
        return None
    return Path(cached) if isinstance(cached, str) else None
