"""Out of GPU memory on a batch: try again with half the batch, down to one row, before giving up.

Pure apart from the `generate` it is given, so the policy is tested on CPU with a fake generate.
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def is_oom(e: BaseException) -> bool:
    """torch's out-of-memory error (CUDA, and MPS's RuntimeError that says so)."""
    try:
        import torch
    except ImportError:
        return False
    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(e, oom) or (isinstance(e, RuntimeError) and "out of memory" in str(e))


def generate_with_backoff(generate: Callable[[Sequence[T]], list[R]], batch: Sequence[T], size: int, *,
                          oom: Callable[[BaseException], bool] = is_oom,
                          release: Callable[[], None] = lambda: None) -> tuple[list[R], int]:
    """Generate `batch` in consecutive chunks of at most `size` rows, halving `size` after each
    out-of-memory error; returns the results in order and the size that worked (callers keep using
    it: the next batch would fail at the larger size too). Re-raises when one row does not fit."""
    out: list[R] = []
    i = 0
    while i < len(batch):
        chunk = batch[i:i + size]
        try:
            out += generate(chunk)
            i += len(chunk)
            continue
        except Exception as e:
            if not oom(e) or len(chunk) == 1:
                raise
        release()  # outside the except: the traceback no longer holds the failed attempt's tensors
        size = max(1, len(chunk) // 2)
    return out, size


def release_cuda() -> None:
    try:
        import torch
    except ImportError:
        return
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
