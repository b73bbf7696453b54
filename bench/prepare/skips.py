"""What cannot run now, for the terminal: one line per reason with the models or tasks it covers
(a registry of 16 models on a machine without keys or Hub is five lines, not one per cell), and
what to do when nothing can run at all."""

from __future__ import annotations

from bench.backends.hub import offline

MAX_NAMES = 10  # names listed per line; more are counted


def _names(names: list[str]) -> str:
    more = len(names) - MAX_NAMES
    return ", ".join(names[:MAX_NAMES]) + (f" and {more} more" if more > 0 else "")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


KINDS = {"local": "local model", "served": "served model", "client": "API model"}


def grouped(blocked: dict[str, tuple[str, str]], runs: dict[str, str], skipped_tasks: dict[str, str]) -> list[str]:
    """blocked: model -> (status, reason); runs: model -> how its backend runs (local, client or
    served: bench/backends/registry.py); skipped_tasks: Hub task -> why its data cannot be
    fetched (each task's full reason stays in its cells)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, (_, why) in blocked.items():
        kind = KINDS[runs[name]]
        groups.setdefault((kind, why), []).append(name)
    lines = [f"skipping {_count(len(names), kind)}, {why}: {_names(names)}" for (kind, why), names in groups.items()]
    if skipped_tasks:
        switch = offline(datasets=True)
        why = f"data not cached, and offline ({switch} is set)" if switch else "data cannot be fetched from the Hub now"
        lines.append(f"skipping {_count(len(skipped_tasks), 'Hub task')}, {why}: {_names(list(skipped_tasks))}")
    return lines


def advice(blocked: dict[str, tuple[str, str]], key_envs: dict[str, str | None], runs: dict[str, str],
           tasks_left: int) -> list[str]:
    """What to do when nothing can run. key_envs: model -> the variable holding its key; runs as
    for grouped()."""
    envs = sorted({key_envs[n] for n, (status, _) in blocked.items() if status == "no_key" and key_envs[n]})
    local = any(runs[n] == "local" for n in blocked)
    lines = ["nothing can run now (no run folder was made). To run something:"]
    if envs:
        lines.append(f"  - set {_either(envs)} (the API keys models.toml names) to run those models")
    if local and (switch := offline()):
        lines.append(f"  - for the local models: on a connected machine unset {switch} so they download once "
                     "(gated ones: accept the licence, then `hf auth login`), or point `model` at a local folder")
    elif local:
        lines.append("  - for the local models: connect to the Hugging Face Hub so they download once (gated ones: "
                     "accept the licence, then `hf auth login`), or point `model` at a local folder")
    if any(runs[n] == "served" for n in blocked):
        lines.append("  - for the served models: install the server program named above (`pip install vllm`, "
                     "or `pip install \"slm-bench[served]\"` for transformers serve), or fix the command")
    if not tasks_left:
        lines.append("  - select tasks whose data is on disk (--tasks); Hub tasks need the Hub once")
    lines.append("  - or try `python -m bench demo`: two tiny models built here, no GPU, network or key needed")
    lines.append("`python -m bench list` shows what each model needs.")
    return lines
