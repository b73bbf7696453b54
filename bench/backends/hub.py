"""Whether a local model's weights can be had right now: a local folder, the Hub cache, or a
download. Asked before a worker starts, so that an unreachable Hub costs a second, not the
minute of retries that a download attempt spends per file."""

from __future__ import annotations

import os
from pathlib import Path

from bench.backends.base import Availability
from bench.config import TransformersModel

_TRUE = ("1", "on", "yes", "true")  # huggingface_hub's and datasets' words for "set", any case


def offline(*, datasets: bool = False) -> str | None:
    """The environment variable that switches the Hub off, or None while it is on, by the rules of
    the libraries that download (so bench skips exactly what they would refuse to fetch). Models
    (huggingface_hub, transformers): HF_HUB_OFFLINE, or TRANSFORMERS_OFFLINE where HF_HUB_OFFLINE is
    unset or empty. Datasets: HF_DATASETS_OFFLINE where it is set (HF_DATASETS_OFFLINE=0 lets datasets
    download under HF_HUB_OFFLINE=1), else as for models. Values 1, on, yes, true mean off."""
    name = "HF_HUB_OFFLINE" if os.environ.get("HF_HUB_OFFLINE") else "TRANSFORMERS_OFFLINE"
    hub = name if os.environ.get(name, "").lower() in _TRUE else None
    own = os.environ.get("HF_DATASETS_OFFLINE")
    if datasets and own is not None:
        return (hub or "HF_DATASETS_OFFLINE") if own.lower() in _TRUE else None
    return hub


def availability(spec: TransformersModel, base: Path) -> Availability:
    """Its weights: 'local folder', 'cached', 'downloadable', or why not (offline, gated, missing,
    unreachable), which its cells give as 'model cannot be loaded: ...'."""
    ok, why = _weights(spec, base)
    return Availability(ok, why, "ok" if ok else "skipped", None if ok else why)


def _weights(spec: TransformersModel, base: Path) -> tuple[bool, str]:
    from bench.config.modelfiles import model_location

    local = Path(model_location(spec.model, base))
    if local.is_dir():
        ok = (local / "config.json").is_file()
        return ok, "local folder" if ok else f"folder {local} has no config.json"
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(spec.model, "config.json", revision=spec.revision)
    except Exception as e:  # a malformed id, say
        return False, f"invalid model id: {e}"
    if isinstance(cached, str):
        return True, "cached"
    if switch := offline():
        return False, f"not cached, and offline ({switch} is set)"
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        info = HfApi().model_info(spec.model, revision=spec.revision, timeout=10)
    except GatedRepoError:
        return False, "gated: accept its licence on the Hub, then `hf auth login`"
    except RepositoryNotFoundError:
        return False, "not found on the Hub (or private: log in)"
    except RevisionNotFoundError:
        return False, f"revision {spec.revision!r} not found"
    except Exception as e:  # network down, proxy, timeout
        return False, f"not cached, and the Hub is unreachable ({type(e).__name__})"
    return True, "gated, access granted: downloadable" if info.gated else "downloadable"
