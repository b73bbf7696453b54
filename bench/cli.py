"""Command line: argument parsing and exit codes, nothing else. Heavy imports wait for the command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import __version__
from bench.errors import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_NO_MODEL, EXIT_OK, EXIT_REGRESSION, EXIT_STORAGE,
                          InputError, StorageError)
from bench.safetext import plain

COMMANDS = ("run", "demo", "list", "validate", "task", "report", "recommend", "compare", "sweep")

EPILOG = """\
examples:
  python -m bench                                  run every model in models.toml on every task in tasks/
  python -m bench --models smollm2-135m --tasks ticket_routing --limit 20
  python -m bench demo                             tiny random models, no GPU or network needed
  python -m bench list                             models and tasks, and whether each model can load now
  python -m bench validate                         check models.toml and tasks/ without running anything
  python -m bench --resume results/RUN_ID          continue a run that was stopped (crash, kill, Ctrl-C)
  python -m bench task init data.csv --input text --target label
                                                   write tasks/data.toml for your own data, scorer suggested
  python -m bench report results/RUN1 results/RUN2 --config new-prices.toml
                                                   merged tables, plots and report.html, re-priced
  python -m bench recommend --task ticket_routing --min-accuracy 0.9 --max-p95-latency-ms 800 results/RUN
  python -m bench --dry-run                        the plan and its estimated cost; sends nothing
  python -m bench --max-usd 5                      stop sending before the spend could pass $5
  python -m bench --devices 0,1,2,3                one local model per GPU at once, API models beside them
  python -m bench --parallel 1                     one model at a time: isolated timings
  python -m bench --executor ray --ray-address HEAD:6379
                                                   local models as Ray tasks on a cluster's GPU nodes
  python -m bench compare results/BASE results/NEW a Markdown table; exit 1 on a regression
  python -m bench sweep --models qwen-vllm --tasks ticket_routing --slo-p95-ms 2000
                                                   capacity under a latency target (then: bench report RUN SWEEP)

exit codes: 0 every cell finished, 2 bad input (nothing was run or written),
            3 some cells failed, were skipped or have examples without an answer (resumable),
            4 no cell could run, 5 the disk refused a write (full, quota, read-only; resumable),
            6 --max-usd reached (resumable), 130 interrupted (resumable);
            recommend: 0 a model was recommended, 1 no model meets every bar, 2 bad input;
            compare: 0 no regression, 1 NEW worse than BASE beyond a limit, 2 bad input
"""


TASKS_DIR_HELP = "folder of task files (default: ./tasks if there is one, else the tasks shipped with bench)"
CONFIG_HELP = "model registry (default: ./models.toml if there is one, else the models.toml shipped with bench)"


def _selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, metavar="FILE", help=CONFIG_HELP)
    p.add_argument("--tasks-dir", type=Path, metavar="DIR", help=TASKS_DIR_HELP)
    p.add_argument("--models", metavar="A,B", help="only these models (names from the registry)")
    p.add_argument("--tasks", metavar="X,Y", help="only these tasks (task file names without .toml)")


def _placement(p: argparse.ArgumentParser) -> None:
    """Where local models run and how many models at once (`run`, and `demo` to try them)."""
    p.add_argument("--parallel", type=int, metavar="N",
                   help="run at most N models at once (default: one local model per GPU, on a machine without "
                        "GPUs one at a time, API models beside them); 1 gives isolated timings")
    p.add_argument("--devices", metavar="0,1,2,3",
                   help="the GPUs local models may use, one model per GPU (or per 'gpus' group) at a time "
                        "(default: every GPU CUDA_VISIBLE_DEVICES shows)")
    p.add_argument("--executor", choices=("local", "ray"), default=None,
                   help="where local models run: local (this machine, the default) or ray (a Ray cluster's nodes; "
                        "docs/distributed.md)")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="with --executor ray: the cluster's HOST:PORT, ray://HOST:PORT or auto "
                        "(default: a Ray instance started on this machine)")


def _running(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, metavar="N", help="only the first N examples of each task")
    p.add_argument("--out", type=Path, default=Path("results"), metavar="DIR",
                   help="where run folders are created (default: results)")
    p.add_argument("--device", metavar="DEV", help="run local models on this device: auto, cpu, cuda, cuda:N, mps")
    p.add_argument("--repeats", type=int, default=1, metavar="N",
                   help="run each example N times: timing statistics use all, accuracy the first (API calls cost N times)")
    p.add_argument("--speed", action="store_true",
                   help="local models generate exactly max_new_tokens per row (EOS ignored): tokens/s at a known length")
    _placement(p)
    p.add_argument("--resume", type=Path, metavar="RUN_DIR",
                   help="continue a stopped run: only examples without an answer run (its options are reused)")
    p.add_argument("--force", action="store_true",
                   help="with --resume: continue even though the configuration changed since the run started")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan (requests, tokens, expected and worst-case cost per model) and send nothing")
    p.add_argument("--max-usd", type=float, metavar="X",
                   help="stop sending API requests before this session's spend could pass X USD (exit 6, resumable)")
    p.add_argument("--yes", action="store_true", help="do not ask before a run whose worst case is over the threshold")
    p.add_argument("--confirm-over-usd", type=float, metavar="X",
                   help="ask (or need --yes) when the worst case is over X USD (default: $BENCH_CONFIRM_OVER_USD, else 10)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bench", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Measure small local models against large API models on your own tasks: "
                    "accuracy with confidence intervals, latency, throughput and memory.")
    top.add_argument("--version", action="version", version=f"bench {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_run_parser, _demo_parser, _list_parser, _validate_parser, _task_parser, _report_parser,
                _recommend_parser, _compare_parser, _sweep_parser):  # this order is --help's
        add(sub)
    return top


def _run_parser(sub) -> None:
    run = sub.add_parser("run", help="run models on tasks and write a run folder (the default)",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    _selection(run)
    _running(run)
    run.add_argument("--demo", action="store_true", help="same as 'bench demo'")
    _question(run)


def _demo_parser(sub) -> None:
    demo = sub.add_parser("demo", help="run the shipped tasks on two tiny random-weight models (accuracy means nothing)")
    demo.add_argument("--tasks-dir", type=Path, metavar="DIR", help=TASKS_DIR_HELP)
    demo.add_argument("--tasks", metavar="X,Y", help="only these tasks")
    demo.add_argument("--limit", type=int, default=16, metavar="N", help="examples per task (default: 16)")
    demo.add_argument("--out", type=Path, default=Path("results"), metavar="DIR")
    _placement(demo)


def _list_parser(sub) -> None:
    _selection(sub.add_parser("list", help="list models and tasks, and whether each model can be loaded now"))


def _validate_parser(sub) -> None:
    _selection(sub.add_parser("validate", help="check models.toml and task files (and their data) without running"))


def _task_parser(sub) -> None:
    task = sub.add_parser("task", help="task files: 'task init' writes one for your own data")
    task_sub = task.add_subparsers(dest="task_command", metavar="ACTION", required=True)
    init = task_sub.add_parser("init", help="write a task file for a CSV, JSONL or Parquet file, with a suggested scorer")
    init.add_argument("data", type=Path, help="the data file (.csv, .jsonl or .parquet)")
    init.add_argument("--input", required=True, metavar="COLUMN", help="the column the model reads")
    init.add_argument("--target", required=True, metavar="COLUMN", help="the column holding the reference answer")
    init.add_argument("--id", metavar="COLUMN", help="the column of example ids, unique and never empty "
                      "(default: a column named like an id, such as ticket_id, if it can be one; else row hashes)")
    init.add_argument("--name", metavar="NAME", help="task name (default: the data file's name)")
    init.add_argument("--out", type=Path, default=Path("tasks"), metavar="DIR", help="where to write it (default: tasks)")


def _report_parser(sub) -> None:
    rep = sub.add_parser("report", help="tables, plots and report.html from one or more run folders (re-priced with --config)")
    _reporting(rep)
    _question(rep)
    rep.add_argument("--out", type=Path, metavar="DIR",
                     help="where to write (default: the run folder for one run, a new report-<time> folder beside the first for several)")


def _recommend_parser(sub) -> None:
    rec = sub.add_parser("recommend", help="the cheapest model meeting every bar on one task")
    rec.add_argument("--task", required=True, metavar="T", help="the task to choose a model for")
    rec.add_argument("--max-usd-per-1k", type=float, metavar="C", help="USD per 1,000 requests at the monthly volume")
    _reporting(rec)
    _question(rec, alias="--max-p95-latency-ms")


def _compare_parser(sub) -> None:
    cmp = sub.add_parser("compare", help="NEW run against BASE: accuracy (paired test), p95 latency, cost; exit 1 on a regression")
    cmp.add_argument("base", type=Path, metavar="BASE", help="the reference run folder")
    cmp.add_argument("new", type=Path, metavar="NEW", help="the run folder to check")
    cmp.add_argument("--task", metavar="T", help="only this task")
    cmp.add_argument("--model-base", metavar="A", help="compare model A of BASE ...")
    cmp.add_argument("--model-new", metavar="B", help="... with model B of NEW (a renamed or new model version)")
    cmp.add_argument("--max-accuracy-drop", type=float, default=0.0, metavar="PP",
                     help="percentage points of accuracy NEW may lose before a significant drop fails (default 0)")
    cmp.add_argument("--max-latency-increase", type=float, default=50.0, metavar="PCT",
                     help="percent of p95 latency NEW may add (default 50)")
    cmp.add_argument("--max-cost-increase", type=float, default=10.0, metavar="PCT",
                     help="percent of cost per 1,000 requests NEW may add (default 10)")


def _sweep_parser(sub) -> None:
    swp = sub.add_parser("sweep", help="capacity under a latency target: the model at rising load on a task's prompts")
    _selection(swp)
    swp.add_argument("--slo-p95-ms", type=float, required=True, metavar="MS", help="the p95 latency target")
    swp.add_argument("--levels", metavar="1,2,4", help="concurrency (API, served) or batch size (local) levels, "
                                                      "rising (default: 1,2,4,8,16,32,64)")
    swp.add_argument("--requests", type=int, default=64, metavar="N",
                     help="requests per level (at least 2 x the level; the task's prompts cycled; default 64)")
    swp.add_argument("--limit", type=int, metavar="N", help="draw prompts from the first N examples only")
    swp.add_argument("--out", type=Path, default=Path("results"), metavar="DIR")
    swp.add_argument("--device", metavar="DEV", help="local models' device: auto, cpu, cuda, cuda:N, mps")
    swp.add_argument("--yes", action="store_true",
                     help="sweep API models priced per token (each level sends --requests paid requests)")


def _reporting(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="run folders (results/<run id>)")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="models.toml whose prices replace the runs' (re-pricing without re-running)")
    p.add_argument("--utilisation", type=float, default=0.5, metavar="U",
                   help="share of the time a self-hosted machine is busy, for monthly costs and break-even (default 0.5)")
    p.add_argument("--baseline", metavar="MODEL",
                   help="API model for break-even (default: the most accurate per-token priced model of each task)")


def _question(p: argparse.ArgumentParser, alias: str | None = None) -> None:
    """The decision's question (docs/models.md, [decision]): each flag overrides models.toml's key
    (and, for `report` and `recommend`, the question the run recorded). Read as text and checked
    by bench.config.decision.from_flags: a bad value is one line naming the flag."""
    p.add_argument("--reference", metavar="MODEL",
                   help="the model the others are weighed against (default: the most accurate token-priced model)")
    p.add_argument("--volume-per-month", metavar="V",
                   help="requests a month: self-hosted models pay whole machines at it (default 100,000)")
    p.add_argument("--p95-target-ms", *([alias] if alias else []), dest="p95_target_ms", metavar="MS",
                   help="p95 latency target in ms (default: none, latency not judged)")
    p.add_argument("--min-accuracy", metavar="A", help="minimum accuracy, a fraction: 0.9 = 90%% (default: none)")
    p.add_argument("--margin-points", metavar="PP",
                   help="non-inferiority margin in percentage points, 0-100 (default 5)")


def _asked(args) -> dict:
    """The question's flags given, checked (InputError names the flag)."""
    from bench.config.decision import FLAGS, from_flags

    names = {"p95_target_ms": "--p95-target-ms/--max-p95-latency-ms"} if args.command == "recommend" else None
    return from_flags({k: getattr(args, k, None) for k in FLAGS}, names)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        # `bench` alone or with options runs; a first word that is no command is a typo, not a run
        print(f"error: {_invalid_command(argv[0])}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "run")
    args = parser().parse_args(argv)
    from bench.prepare.shipped import apply_defaults

    for note in apply_defaults(args):  # --tasks-dir and --config not given: here, else the shipped ones
        print(note, file=sys.stderr)
    try:
        return HANDLERS[args.command](args)
    except InputError as e:
        print(f"error: {plain(str(e))}", file=sys.stderr)  # names from run folders may hold control characters
        return EXIT_BAD_INPUT
    except StorageError as e:  # `bench report` or `bench sweep` (a run says how to resume itself)
        kept = ("what the sweep measured so far is kept" if args.command == "sweep"
                else "the runs' records are untouched")
        print(f"error: {e}; {kept}; {e.fix} and run the command again", file=sys.stderr)
        return EXIT_STORAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args) -> int:
    if args.demo:
        return _demo(args)
    from bench.execute.options import Options, resumed_options
    from bench.run import execute

    if args.resume is not None:
        defaults = {"config": Path("models.toml"), "tasks_dir": Path("tasks"), "repeats": 1, "speed": False}
        given = {k: getattr(args, k) for k in ("config", "tasks_dir", "models", "tasks", "limit", "device",
                                               "repeats", "speed", "executor", "ray_address")}
        given = {k: v for k, v in given.items() if v is not None and v != defaults.get(k)}
        asked = _asked(args)
        question = {"question": asked} if asked else {}
        return execute(resumed_options(args.resume, force=args.force, **given, **question, **_spending(args),
                                       **_placing(args)))[1]
    if args.force:
        raise InputError("--force only applies with --resume RUN_DIR")
    return execute(Options(config=args.config, tasks_dir=args.tasks_dir, out=args.out, models=args.models,
                           tasks=args.tasks, limit=args.limit, device=args.device, repeats=args.repeats,
                           speed=args.speed, executor=args.executor or "local", ray_address=args.ray_address,
                           question=_asked(args), **_spending(args), **_placing(args)))[1]


def _demo(args) -> int:
    """`bench demo`, or `bench run --demo` (which takes no model options)."""
    from bench.demo import run_demo

    if args.command == "run" and (args.models or args.device or args.config is not None):
        raise InputError("--demo builds its own two models: drop --models, --config and --device")
    if args.command == "run" and _asked(args):
        raise InputError("--demo builds its own two models: ask your question with `bench report RUN` "
                         "(--reference, --volume-per-month, ...)")
    limit = 16 if args.limit is None else args.limit
    return run_demo(tasks_dir=args.tasks_dir, tasks=args.tasks, limit=limit, out=args.out,
                    executor=args.executor or "local", ray_address=args.ray_address, **_placing(args))[1]


def _list(args) -> int:
    from bench.prepare.inventory import show

    return show(args.config, args.tasks_dir, args.models, args.tasks)


def _validate(args) -> int:
    from bench.execute.options import Options, prepare

    prep = prepare(Options(config=args.config, tasks_dir=args.tasks_dir, models=args.models, tasks=args.tasks))
    for task, why in prep.skipped_tasks.items():
        print(f"skipped task {task}: {why}", file=sys.stderr)
    n = sum(len(d.examples) for d in prep.tasks)
    print(f"ok: {len(prep.models)} model(s), {len(prep.tasks)} task(s), {n} examples")
    return EXIT_OK


def _task(args) -> int:
    from bench.prepare.taskinit import init

    init(args.data, args.input, args.target, out_dir=args.out, name=args.name, id_col=args.id)
    return EXIT_OK


def _report(args) -> int:
    from bench.report.build import report

    report(args.runs, out=args.out, prices=args.config, utilisation=args.utilisation, baseline=args.baseline,
           question=_asked(args))
    return EXIT_OK


def _sweep(args) -> int:
    from bench.sweep.capacity import SweepOptions, parse_levels
    from bench.sweep.capacity import execute as sweep

    return sweep(SweepOptions(config=args.config, tasks_dir=args.tasks_dir, out=args.out, models=args.models,
                              tasks=args.tasks, slo_p95_ms=args.slo_p95_ms, levels=parse_levels(args.levels),
                              requests=args.requests, limit=args.limit, device=args.device, yes=args.yes))[1]


def _invalid_command(word: str) -> str:
    import difflib

    close = difflib.get_close_matches(word, COMMANDS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; see bench --help"
    return f"invalid command {word!r} (choose from {', '.join(COMMANDS)}){hint}"


def _spending(args) -> dict:
    """The flags of bench/spend/budget.py: they belong to a session, not to the run (not resumed)."""
    return {"dry_run": args.dry_run, "max_usd": args.max_usd, "yes": args.yes,
            "confirm_over_usd": args.confirm_over_usd}


def _placing(args) -> dict:
    """Where and how many models run at once: this session's machine, not the run's (not resumed)."""
    return {"parallel": args.parallel, "devices": args.devices}


def _compare(args) -> int:
    from bench.decide.compare import Limits, compare, markdown

    limits = Limits(args.max_accuracy_drop, args.max_latency_increase, args.max_cost_increase)
    pairs = compare(args.base, args.new, limits, task=args.task, model_base=args.model_base,
                    model_new=args.model_new)
    print(markdown(pairs, args.base, args.new, limits), end="")
    return EXIT_REGRESSION if any(p.failures for p in pairs) else EXIT_OK


def _recommend(args) -> int:
    from bench.decide.recommend import Bars, lines, recommend
    from bench.report.build import check_options, load, question_of, tables

    asked = _asked(args)
    check_options(args.utilisation)
    Bars(max_usd_per_1k=args.max_usd_per_1k).check()
    merged = load(args.runs, args.config)
    rows, _, _ = tables(merged, args.utilisation, args.baseline)
    bars = Bars(question_of(merged, asked, args.config, args.utilisation), args.max_usd_per_1k)
    rec = recommend(rows, merged.records, args.task, bars, merged.overlapped)
    print("\n".join(lines(rec, bars)))
    return EXIT_OK if rec.chosen is not None else EXIT_NO_MODEL


# each COMMAND's handler: args -> exit code (InputError, StorageError and Ctrl-C are main's)
HANDLERS = {"run": _run, "demo": _demo, "list": _list, "validate": _validate, "task": _task, "report": _report,
            "recommend": _recommend, "compare": _compare, "sweep": _sweep}
