"""What a run is asked (`Options`, from the command line or a resumed run's manifest) and
`prepare`: every input read and checked (models.toml, the task files and their data, the devices,
the context lengths) before a run folder exists or a model loads, as a `Prepared`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bench.config import DEVICE_RE, ModelsConfig, load_models, select
from bench.errors import InputError
from bench.execute import schedule
from bench.prepare import preflight, tasks
from bench.prepare.planning import Plan, plan
from bench.prepare.taskfiles import load_tasks
from bench.runfolder import resume


@dataclass
class Options:
    config: Path = Path("models.toml")
    tasks_dir: Path = Path("tasks")
    out: Path = Path("results")
    models: str | None = None  # comma-separated names, None for all
    tasks: str | None = None
    limit: int | None = None
    device: str | None = None  # overrides every local model's device
    repeats: int = 1  # each example run this many times for timing; accuracy uses the first
    speed: bool = False  # local models generate exactly max_new_tokens per row
    title: str = "Benchmark summary"
    notes: list[str] = field(default_factory=list)  # printed above the summary table (the demo's warning)
    resume: Path | None = None  # continue this run folder instead of starting a new one
    force: bool = False  # resume even though the configuration changed
    resumable: bool = True  # False for `bench demo`: its models live in a temporary folder that is gone after
    dry_run: bool = False  # print the plan and its estimated cost, send nothing, make no folder
    max_usd: float | None = None  # this session's spending cap on per-token priced models (bench/spend/budget.py)
    yes: bool = False  # no confirmation asked over the threshold
    confirm_over_usd: float | None = None  # None: $BENCH_CONFIRM_OVER_USD, else $10
    executor: str = "local"  # where local models run: local | ray (bench/execute/ray_exec.py)
    ray_address: str | None = None  # with executor ray: the cluster to join; None starts a local Ray instance
    parallel: int | None = None  # at most this many models at once (1: one after another, isolated timings)
    devices: str | None = None  # "0,1,2,3": the GPUs local models may use (default: every visible one)
    question: dict = field(default_factory=dict)  # the decision's flags given (bench.config.decision.from_flags)


@dataclass
class Prepared:
    models_cfg: ModelsConfig
    models: list[str]
    tasks: list[tasks.TaskData]
    plans: dict[str, Plan]  # task name -> rendered requests, checked targets, scorer
    skipped_tasks: dict[str, str] = field(default_factory=dict)  # task name -> why its data is unavailable now
    selected: list[str] = field(default_factory=list)  # every selected task, loaded or skipped, in order
    blocked: dict[str, tuple[str, str]] = field(default_factory=dict)  # model -> (status, reason): cannot run now
    pool: tuple[int, ...] = ()  # the GPUs the run may use (--devices, else every visible one)
    needs: dict = field(default_factory=dict)  # model -> devices.Need: what it takes while it runs
    launcher: object | None = None  # --executor ray: its ray_exec.RayLauncher (closed at the end); None: local
    question: dict = field(default_factory=dict)  # [decision] of models.toml under the flags: recorded in the manifest
    question_note: str | None = None  # why models.toml's reference was left out of this run's question


def resumed_options(folder: Path, *, force: bool = False, **given) -> Options:
    """The options a run was started with (from its manifest), overridden by any flag given now."""
    man = resume.read_manifest(folder)
    if man.get("resumable") is False:
        raise InputError(f"--resume {folder}: a `bench demo` run cannot be resumed (its models were built in a "
                         f"temporary folder that is gone); run `bench demo` again")
    o = man["options"]
    fields = {"config": Path(o.get("config") or "models.toml"), "tasks_dir": Path(o.get("tasks_dir") or "tasks"),
              "models": ",".join(o.get("models") or []) or None, "tasks": ",".join(o.get("tasks") or []) or None,
              "limit": o.get("limit"), "device": o.get("device"), "repeats": o.get("repeats") or 1,
              "speed": bool(o.get("speed")), "executor": o.get("executor") or "local",
              "ray_address": o.get("ray_address")}
    if isinstance(man.get("title"), str):  # the demo's title and its random-weights warning stay on the summary
        fields["title"] = man["title"]
    if isinstance(man.get("notes"), list):
        fields["notes"] = [str(n) for n in man["notes"]]
    if isinstance(man.get("question"), dict):  # the question it was run with, under the flags given now
        given["question"] = {**man["question"], **(given.get("question") or {})}
    if given.get("executor") == "local" and "ray_address" not in given:  # the run's cluster is left
        fields["ray_address"] = None
    return Options(**{**fields, **given}, out=folder.parent, resume=folder, force=force)


def prepare_tasks(opts: Options) -> tuple[list[tasks.TaskData], dict[str, Plan], dict[str, str]]:
    """Load every selected task's data and render every prompt and target. A Hub task whose data
    cannot be fetched now is set aside with the reason (the third item), not an error."""
    data, plans, skipped, _ = _prepare_tasks(opts)
    return data, plans, skipped


def _prepare_tasks(opts: Options):
    if opts.limit is not None and opts.limit < 1:
        raise InputError(f"--limit {opts.limit}: must be at least 1 (omit it to run every example)")
    if opts.repeats < 1:
        raise InputError(f"--repeats {opts.repeats}: must be at least 1")
    all_tasks = load_tasks(opts.tasks_dir)
    wanted = select(opts.tasks, [t.name for t in all_tasks], "task", "--tasks")
    data, skipped, selected = [], {}, []
    for t in all_tasks:
        if t.name in wanted:
            selected.append(t.name)
            try:
                data.append(tasks.load(t, opts.limit))
            except tasks.DataUnavailable as e:
                skipped[t.name] = str(e)
    return data, {d.task.name: plan(d) for d in data}, skipped, selected


def prepare(opts: Options) -> Prepared:
    """Parse and check the configs and the tasks; raise InputError on any mistake."""
    if opts.device is not None and not re.match(DEVICE_RE, opts.device):
        raise InputError(f"--device {opts.device!r}: use auto, cpu, cuda, cuda:N or mps")
    if opts.ray_address is not None and opts.executor != "ray":  # it would run every model here, silently
        raise InputError(f"--ray-address {opts.ray_address}: only used with --executor ray; add --executor ray "
                         f"to run local models on that Ray cluster")
    models_cfg = load_models(opts.config)
    if not models_cfg.models:
        raise InputError(f"{opts.config}: no models defined; add a [models.NAME] table (see docs/models.md)")
    names = select(opts.models, list(models_cfg.models), "model", "--models")
    for name in names:
        problem = models_cfg.models[name].run_problem(opts.config.parent)  # a chat template file, say
        if problem:
            raise InputError(f"{opts.config}: key 'models.{name}.{problem[0]}': {problem[1]}")
    data, plans, skipped, selected = _prepare_tasks(opts)
    # devices here (on a Ray cluster, its nodes' GPUs are checked when it is joined), context lengths
    preflight.check(opts.config, models_cfg, names, opts.device, data, devices_here=opts.executor != "ray")
    question, note = _question(opts, models_cfg, names)
    return Prepared(models_cfg, names, data, plans, skipped, selected, pool=schedule.pool_of(opts),
                    question=question, question_note=note)


def _question(opts: Options, models_cfg: ModelsConfig, names: list[str]) -> tuple[dict, str | None]:
    """The question this run records: models.toml's [decision] under the flags. A --reference
    that is not among the run's models is bad input; models.toml's is left out with a note (a run
    of some models, or a sweep, still runs) and the report uses the default reference."""
    question = {**models_cfg.decision.given(), **opts.question}
    ref = question.get("reference")
    if ref is None or ref in names:
        return question, None
    if "reference" in opts.question:
        raise InputError(f"--reference {ref}: not among this run's models ({', '.join(names)}); add it to "
                         f"--models or name one of them")
    del question["reference"]
    return question, (f"note: {opts.config}: [decision] reference {ref!r} is not in this run (--models); the "
                      f"decision compares each task's models with the default reference")
