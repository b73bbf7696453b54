"""Local models through Hugging Face transformers: batched greedy generation with left padding.

Token counts are per row: input tokens from the attention mask, output tokens up to and including
the token that ended the row (EOS or the last token of a stop string), never the padded width.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bench.backends.base import Completion, LoadInfo, Request, cut_at_stop, plain_prompt
from bench.config import TransformersModel
from bench.config.modelfiles import context_length, model_location
from bench.core import measure


def resolve_device(device: str) -> str:
    import torch

    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(dtype: str, device: str):
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32  # half precision on CPU is slow or unsupported for many kernels


def placed_on(model, requested: str) -> str:
    """Where the weights actually are: 'cuda:N', or 'cuda:0,1' when device_map spread them over
    several GPUs (every meter and sync then covers exactly those), else the requested device."""
    gpus = sorted({p.device.index for p in model.parameters() if p.device.type == "cuda"})
    return "cuda:" + ",".join(map(str, gpus)) if gpus else requested


def resolved_revision(model: str, revision: str) -> str | None:
    """The commit a Hub model was loaded from, read from the Hub cache's snapshot folder
    (None for a local folder, or when the files did not come through the cache)."""
    if Path(model).is_dir():
        return None
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(model, "config.json", revision=revision)
    if not isinstance(cached, str):
        return None
    parts = Path(cached).parts
    return parts[parts.index("snapshots") + 1] if "snapshots" in parts else None


class TransformersBackend:
    def __init__(self, spec: TransformersModel, device: str | None = None, spec_dir: Path | None = None):
        self.spec = spec
        # --device moves a model, unless its device_map places it (then the map decides)
        self.device_request = spec.device if spec.device_map else (device or spec.device)
        self.spec_dir = spec_dir or Path.cwd()
        self.location = model_location(spec.model, self.spec_dir)
        self.model = self.tokenizer = None
        self.device = "cpu"
        self.template = "none"
        self.context_tokens: int | None = None  # the model's context length, when its config says

    # ------------------------------------------------------------ load

    def load(self) -> LoadInfo:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = resolve_device(self.device_request)
        dtype = resolve_dtype(self.spec.dtype, self.device)
        measure.reset_peaks(self.device)
        t0 = measure.now()
        kw = {"revision": self.spec.revision, "trust_remote_code": self.spec.trust_remote_code}
        self.tokenizer = AutoTokenizer.from_pretrained(self.location, **kw)
        self.model = AutoModelForCausalLM.from_pretrained(
            self.location, dtype=dtype, device_map=self.spec.device_map or self.device, **kw)
        self.model.eval()
        found = context_length(self.model.config.to_dict())
        self.context_tokens = found[0] if found else None
        self.device = placed_on(self.model, self.device)
        measure.sync(self.device)
        load_s = measure.now() - t0

        tok = self.tokenizer
        tok.padding_side = "left"  # generation continues from the right edge of every row
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        template_sha = self._choose_template()
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos] if eos is not None else []
        if tok.eos_token_id is not None and tok.eos_token_id not in eos:
            eos.append(tok.eos_token_id)
        self.eos_ids = torch.tensor(eos, dtype=torch.long, device=self.model.device)
        revision = resolved_revision(self.location, self.spec.revision)
        memory = measure.torch_memory(self.device) | {"rss_after_load_bytes": measure.rss_bytes()}
        return LoadInfo(load_s=load_s, resolved_revision=revision,
                        parameters=sum(p.numel() for p in self.model.parameters()),
                        dtype=str(dtype).removeprefix("torch."), device=str(self.model.device),
                        chat_template=self.template, chat_template_sha256=template_sha, memory=memory,
                        weights_bytes=sum(t.numel() * t.element_size()
                                          for t in [*self.model.parameters(), *self.model.buffers()]),
                        runtime={"torch_threads": torch.get_num_threads(), "cuda": torch.version.cuda,
                                 "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]})

    def _choose_template(self) -> str | None:
        policy, tok = self.spec.chat_template, self.tokenizer
        if policy == "none" or (policy == "auto" and not tok.chat_template):
            self.template = "none"
            return None
        if policy != "auto":
            path = Path(policy) if Path(policy).is_absolute() else self.spec_dir / policy
            tok.chat_template = path.read_text(encoding="utf-8")
            self.template = f"file:{policy}"
        else:
            self.template = "tokenizer"
        return hashlib.sha256(tok.chat_template.encode()).hexdigest()

    # ------------------------------------------------------------ generate

    def prompt_text(self, messages: list[dict[str, str]]) -> str:
        if self.template == "none":
            return plain_prompt(messages)
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def encode(self, requests: list[Request]):
        """Left-padded batch; a chat template already holds its special tokens, plain text gets them."""
        prompts = [self.prompt_text(r.messages) for r in requests]
        return self.tokenizer(prompts, return_tensors="pt", padding=True,
                              add_special_tokens=self.template == "none").to(self.model.device)

    async def generate(self, requests: list[Request]) -> list[Completion]:
        return self.generate_batch(requests)

    def generate_batch(self, requests: list[Request], speed: bool = False) -> list[Completion]:
        """One batch, generated together; every request must share max_new_tokens and stop.
        speed: every row runs to max_new_tokens (EOS suppressed, stop strings only cut the text),
        so that tokens/s is measured at a known length."""
        import torch

        max_new, stop = requests[0].max_new_tokens, requests[0].stop
        if any(r.max_new_tokens != max_new or r.stop != stop for r in requests):
            raise ValueError("a batch must share max_new_tokens and stop strings")
        enc = self.encode(requests)
        width = enc["input_ids"].shape[1]
        if self.context_tokens is not None and width + max_new > self.context_tokens:
            # past its positions a model fails obscurely or runs on into noise: say which limit was hit
            raise ValueError(f"a prompt of {width} tokens plus max_new_tokens {max_new} exceed the model's "
                             f"context length of {self.context_tokens} tokens; lower max_new_tokens in the "
                             f"task's [generation] table or shorten the prompt")
        eos = self.eos_ids[:0] if speed else self.eos_ids
        recorder = _FinishRecorder(width, eos, None if speed else self._stop_criteria(stop), len(requests))
        first = _FirstStep(self.device)
        options = greedy_kwargs(self.tokenizer, max_new) | ({"min_new_tokens": max_new} if speed else {})
        measure.sync(self.device)
        t0 = measure.now()
        with torch.inference_mode():
            out = self.model.generate(**enc, **options, logits_processor=[first], stopping_criteria=[recorder])
        measure.sync(self.device)
        latency = measure.now() - t0
        ttft = (first.t - t0) if first.t is not None else None
        steps = out.shape[1] - width  # decode steps the batch ran: one token per unfinished row each
        # the time of one decode step; a row's own tokens came one per step, however many it had
        tpot = (latency - ttft) / (steps - 1) if ttft is not None and steps > 1 else None

        completions = []
        input_tokens = enc["attention_mask"].sum(dim=1).tolist()
        finish = recorder.finish
        for row, n_in in enumerate(input_tokens):
            generated = out[row, width:]
            ended = finish[row]
            n_out = ended if ended is not None else min(len(generated), max_new)
            text = self.tokenizer.decode(generated[:n_out], skip_special_tokens=True)
            completions.append(Completion(
                text=cut_at_stop(text, stop), input_tokens=int(n_in), output_tokens=int(n_out),
                ttft_s=ttft, ttft_answer_s=ttft, latency_s=latency, tpot_s=tpot,
                finish_reason="stop" if ended is not None else "length",
                token_source="tokenizer", batch_size=len(requests)))
        return completions

    def _stop_criteria(self, stop: tuple[str, ...]):
        if not stop:
            return None
        from transformers import StopStringCriteria

        return StopStringCriteria(self.tokenizer, list(stop))

    def close(self) -> None:
        self.model = self.tokenizer = None


def greedy_kwargs(tokenizer, max_new_tokens: int) -> dict:
    """The generate() options of a greedy run; the tests' bare generate() loop uses the same."""
    return {"max_new_tokens": max_new_tokens, "do_sample": False, "num_beams": 1,
            "temperature": None, "top_p": None, "top_k": None,
            "pad_token_id": tokenizer.pad_token_id}


class _FirstStep:
    """A no-op logits processor whose first call marks the first generated token (end of prefill)."""

    def __init__(self, device: str):
        self.device, self.t = device, None

    def __call__(self, input_ids, scores):
        if self.t is None:
            measure.sync(self.device)
            self.t = measure.now()
        return scores


class _FinishRecorder:
    """A stopping criterion that ends a row at EOS or a stop string and remembers at which step,
    so that the row's token count excludes the padding generate() writes after it."""

    def __init__(self, prompt_width: int, eos_ids, stop_criteria, batch: int):
        import torch

        self.prompt_width, self.eos_ids, self.stop = prompt_width, eos_ids, stop_criteria
        # kept on the model's device and updated without reading it back: no GPU sync per step
        self._finish = torch.full((batch,), -1, dtype=torch.long, device=eos_ids.device)

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        done = torch.isin(input_ids[:, -1], self.eos_ids)
        if self.stop is not None:
            done = done | self.stop(input_ids, scores).to(done.device)
        step = input_ids.shape[1] - self.prompt_width
        self._finish = torch.where(done & (self._finish < 0), step, self._finish)
        return done

    @property
    def finish(self) -> list[int | None]:
        """Per row, the number of generated tokens when it ended; None if it ran to the limit."""
        return [None if f < 0 else f for f in self._finish.tolist()]
