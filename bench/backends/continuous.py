"""The continuous engine: a loaded transformers model runs a cell's requests through transformers'
own continuous batching (ContinuousBatchingManager, paged KV cache), `in_flight` requests at a time.

Per-request times come from the manager's own stamps (docs/models.md): scheduled, each token, done.
"""

from __future__ import annotations

import queue as queue_mod
from collections import deque
from dataclasses import dataclass, field
from math import ceil
from typing import Callable

from bench.backends.base import Completion, Request, cut_at_stop
from bench.backends.oom import is_oom, release_cuda
from bench.core import measure

POLL_S = 0.05  # how long to wait for the manager's next output before checking its thread again


class EngineOOM(RuntimeError):
    """The manager's generation loop died of out-of-memory; requests not delivered can run again."""


@dataclass
class Live:
    """A request handed to the manager and not yet delivered."""

    request: Request
    prompt_ids: list[int]
    checked: int = 0  # generated tokens already checked for a stop string
    done: bool = False


@dataclass
class Session:
    """One pass of requests through a manager: what is waiting, in flight and when it started."""

    started_at: float  # the engine started: every request of the pass was ready from then (queue_s)
    pending: deque = field(default_factory=deque)
    live: dict[str, Live] = field(default_factory=dict)
    last_delivery: float = 0.0
    count: int = 0  # request ids handed out


def sizes(backend, prompt_lengths: list[int], max_new_tokens: int, in_flight: int) -> dict[str, int]:
    """The paged cache and step budget: the spec's values, else enough for `in_flight` requests of
    the longest prompt plus max_new_tokens (the cache is sized to the work, not to free memory:
    transformers' own default takes 60% of a CPU box's RAM)."""
    spec = backend.spec
    page = spec.page_size or 32
    longest = max(prompt_lengths, default=1) + max_new_tokens
    blocks = spec.num_blocks or in_flight * (ceil(longest / page) + 1)
    tokens = spec.max_batch_tokens or min(8192, max(256, in_flight * max(prompt_lengths, default=1)))
    return {"page_size": page, "num_blocks": blocks, "max_batch_tokens": tokens}


class ContinuousEngine:
    """Runs requests on a loaded TransformersBackend (its tokenizer, chat template, EOS ids and stop
    strings) with continuous batching. Greedy, like the static engine."""

    def __init__(self, backend):
        self.backend = backend
        self.attn_implementation: str | None = None  # what the manager ran with (sdpa on CPU, flash on CUDA if installed)

    def encode(self, request: Request) -> list[int]:
        b = self.backend
        text = b.prompt_text(request.messages)
        return b.tokenizer(text, add_special_tokens=b.template == "none")["input_ids"]

    def run(self, requests: list[Request], in_flight: int, speed: bool,
            deliver: Callable[[list[tuple[Request, Completion]], float], None]) -> tuple[int, float]:
        """Generate every request, keeping at most `in_flight` in the manager; `deliver(rows,
        wall_s)` gets the requests finished since the previous delivery with the box time since it.
        On out-of-memory the unfinished requests run again with half as many in flight, down to 1.
        Returns the in-flight limit that worked and the wall time of the whole pass."""
        if not requests:
            return in_flight, 0.0
        encoded = {id(r): self.encode(r) for r in requests}
        s = None
        while True:
            try:
                manager = self._manager(list(s.pending) if s else requests, encoded, in_flight)
            except Exception as e:  # the paged cache did not fit: a smaller one for fewer requests
                if not is_oom(e) or in_flight == 1:
                    raise
                release_cuda()
                in_flight = max(1, in_flight // 2)
                continue
            if s is None:  # the clock starts once the first manager and its cache are ready
                s = Session(started_at=measure.now(), pending=deque(requests))
                s.last_delivery = s.started_at
            try:
                manager.start()
                self._loop(manager, s, encoded, in_flight, speed, deliver)
                return in_flight, s.last_delivery - s.started_at  # the pass ends at its last delivery
            except EngineOOM:
                if in_flight == 1:
                    raise
                s.pending.extendleft(reversed([lv.request for lv in s.live.values() if not lv.done]))
                s.live.clear()
                in_flight = max(1, in_flight // 2)
            finally:  # a hard stop: nothing is left to finish, or what is left runs again
                manager.stop(block=True, timeout=30, hard_stop=True)
                manager.destroy()
                manager = None
                release_cuda()

    # ------------------------------------------------------------ internals

    def _manager(self, todo: list[Request], encoded: dict, in_flight: int):
        from transformers import ContinuousBatchingConfig, GenerationConfig

        b = self.backend
        max_new = max(r.max_new_tokens for r in todo)
        cb = ContinuousBatchingConfig(**sizes(b, [len(encoded[id(r)]) for r in todo], max_new, in_flight),
                                      max_requests_per_batch=in_flight)
        greedy = GenerationConfig(do_sample=False, max_new_tokens=max_new, eos_token_id=b.eos_ids.tolist(),
                                  pad_token_id=b.tokenizer.pad_token_id)
        manager = b.model.init_continuous_batching(generation_config=greedy, continuous_batching_config=cb)
        manager.warmup()  # the paged cache is allocated here, untimed, like the model load
        self.attn_implementation = b.model.config._attn_implementation
        return manager

    def _loop(self, manager, s: Session, encoded: dict, in_flight: int, speed: bool, deliver) -> None:
        stop = () if speed else s.pending[0].stop if s.pending else ()
        criteria = None if speed else self.backend._stop_criteria(stop)
        eos = -1 if speed else self.backend.eos_ids.tolist()
        while s.pending or s.live:
            while s.pending and len(s.live) < in_flight:
                r = s.pending.popleft()
                rid = str(s.count)
                s.count += 1
                s.live[rid] = Live(r, encoded[id(r)])
                manager.add_request(encoded[id(r)], request_id=rid, max_new_tokens=r.max_new_tokens,
                                    streaming=criteria is not None, record_timestamps=True, eos_token_id=eos)
            finished = []
            for out in self._outputs(manager):
                lv = s.live.get(out.request_id)
                if lv is None or lv.done:  # an output that raced with our cancel after a stop string
                    continue
                n = self._stopped_at(lv, out, criteria)
                if n is None and not out.is_finished():
                    continue
                if n is not None and not out.is_finished():
                    manager.cancel_request(out.request_id)
                lv.done = True
                finished.append((lv.request, self._completion(lv, out, n, s.started_at, in_flight, speed)))
            if finished:
                for rid in [k for k, v in s.live.items() if v.done]:
                    del s.live[rid]
                t = measure.now()
                deliver(finished, t - s.last_delivery)
                s.last_delivery = t

    def _outputs(self, manager) -> list:
        """The outputs ready now (waiting up to POLL_S for the first); raises when the loop died."""
        status = manager.background_thread_status
        outs = []
        try:
            outs.append(manager.output_router.output_queue.get(timeout=POLL_S))
            while True:
                outs.append(manager.output_router.output_queue.get_nowait())
        except queue_mod.Empty:
            pass
        if any(o.error for o in outs) or not manager.is_running():
            thread = manager._generation_thread
            if thread is not None:  # a dying loop fails its requests first, then records why
                thread.join(timeout=0.5)
            error = status.fatal_error or next((RuntimeError(o.error) for o in outs if o.error), None)
            if error is not None and (is_oom(error) or "out of memory" in str(error)):
                raise EngineOOM(str(error))
            if status.fatal_error is not None:
                raise RuntimeError(f"continuous batching stopped: {status.fatal_error}") from status.fatal_error
            if not manager.is_running() and not outs:
                raise RuntimeError("continuous batching stopped before every request finished")
        return outs

    def _stopped_at(self, lv: Live, out, criteria) -> int | None:
        """Generated tokens up to and including the one that completed a stop string, checked token
        by token on prompt + output exactly as the static engine's StopStringCriteria sees them."""
        if criteria is None or out.error:
            return None
        import torch

        gen = out.generated_tokens
        for k in range(lv.checked + 1, len(gen) + 1):
            ids = torch.tensor([lv.prompt_ids + gen[:k]])
            if bool(criteria(ids, None)[0]):
                return k
        lv.checked = len(gen)
        return None

    def _completion(self, lv: Live, out, n_stop: int | None, started_at: float, in_flight: int,
                    speed: bool) -> Completion:
        """One request's Completion from the manager's stamps: scheduled (lifespan[0]), each token's
        arrival on the host (timestamps), and the cell's start for queue_s."""
        tok, r = self.backend.tokenizer, lv.request
        if out.error:
            return Completion(text="", input_tokens=len(lv.prompt_ids), output_tokens=None, finish_reason="error",
                              token_source="tokenizer", batch_size=in_flight, error=f"RuntimeError: {out.error}")
        gen = list(out.generated_tokens)
        eos = set(self.backend.eos_ids.tolist())
        n = n_stop if n_stop is not None else len(gen)
        stopped = n_stop is not None or (not speed and n > 0 and gen[n - 1] in eos)
        stamps = (out.timestamps or [])[:n]
        scheduled = out.lifespan[0]
        ttft = stamps[0] - scheduled if stamps else None
        latency = stamps[-1] - scheduled if stamps else None
        tpot = (latency - ttft) / (n - 1) if stamps and n > 1 else None
        text = tok.decode(gen[:n], skip_special_tokens=True)
        return Completion(text=cut_at_stop(text, r.stop), input_tokens=len(lv.prompt_ids), output_tokens=n,
                          ttft_s=ttft, ttft_answer_s=ttft, latency_s=latency, tpot_s=tpot,
                          queue_s=max(0.0, scheduled - started_at), finish_reason="stop" if stopped else "length",
                          token_source="tokenizer", batch_size=in_flight)
