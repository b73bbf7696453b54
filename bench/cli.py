"""Command line: argument parsing and exit codes, nothing else. Heavy imports wait for the command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import __version__
from bench.errors import EXIT_BAD_INPUT, EXIT_OK, InputError

EXIT_NO_MODEL = 1  # recommend: no model meets every bar

COMMANDS = ("run", "demo", "list", "validate", "task", "report", "recommend", "sweep")

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
  python -m bench sweep --models qwen-vllm --tasks ticket_routing --slo-p95-ms 2000
                                                   capacity under a latency target (then: bench report RUN SWEEP)

exit codes: 0 every cell finished, 2 bad input (nothing was run or written),
            3 some cells failed or were skipped, 4 no cell could run, 130 interrupted (resumable);
            recommend: 0 a model was recommended, 1 no model meets every bar, 2 bad input
"""


def _selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=Path("models.toml"), metavar="FILE",
                   help="model registry (default: models.toml)")
    p.add_argument("--tasks-dir", type=Path, default=Path("tasks"), metavar="DIR",
                   help="folder of task files (default: tasks)")
    p.add_argument("--models", metavar="A,B", help="only these models (names from the registry)")
    p.add_argument("--tasks", metavar="X,Y", help="only these tasks (task file names without .toml)")


def _running(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, metavar="N", help="only the first N examples of each task")
    p.add_argument("--out", type=Path, default=Path("results"), metavar="DIR",
                   help="where run folders are created (default: results)")
    p.add_argument("--device", metavar="DEV", help="run local models on this device: auto, cpu, cuda, cuda:N, mps")
    p.add_argument("--repeats", type=int, default=1, metavar="N",
                   help="run each example N times: timing statistics use all, accuracy the first (API calls cost N times)")
    p.add_argument("--speed", action="store_true",
                   help="local models generate exactly max_new_tokens per row (EOS ignored): tokens/s at a known length")
    p.add_argument("--resume", type=Path, metavar="RUN_DIR",
                   help="continue a stopped run: only examples without an answer run (its options are reused)")
    p.add_argument("--force", action="store_true",
                   help="with --resume: continue even though the configuration changed since the run started")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bench", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Measure small local models against large API models on your own tasks: "
                    "accuracy with confidence intervals, latency, throughput and memory.")
    top.add_argument("--version", action="version", version=f"bench {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run models on tasks and write a run folder (the default)",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    _selection(run)
    _running(run)
    run.add_argument("--demo", action="store_true", help="same as 'bench demo'")
    demo = sub.add_parser("demo", help="run the shipped tasks on two tiny random-weight models (accuracy means nothing)")
    demo.add_argument("--tasks-dir", type=Path, default=Path("tasks"), metavar="DIR")
    demo.add_argument("--tasks", metavar="X,Y", help="only these tasks")
    demo.add_argument("--limit", type=int, default=16, metavar="N", help="examples per task (default: 16)")
    demo.add_argument("--out", type=Path, default=Path("results"), metavar="DIR")
    lst = sub.add_parser("list", help="list models and tasks, and whether each model can be loaded now")
    _selection(lst)
    val = sub.add_parser("validate", help="check models.toml and task files (and their data) without running")
    _selection(val)
    task = sub.add_parser("task", help="task files: 'task init' writes one for your own data")
    task_sub = task.add_subparsers(dest="task_command", metavar="ACTION", required=True)
    init = task_sub.add_parser("init", help="write a task file for a CSV, JSONL or Parquet file, with a suggested scorer")
    init.add_argument("data", type=Path, help="the data file (.csv, .jsonl or .parquet)")
    init.add_argument("--input", required=True, metavar="COLUMN", help="the column the model reads")
    init.add_argument("--target", required=True, metavar="COLUMN", help="the column holding the reference answer")
    init.add_argument("--name", metavar="NAME", help="task name (default: the data file's name)")
    init.add_argument("--out", type=Path, default=Path("tasks"), metavar="DIR", help="where to write it (default: tasks)")
    rep = sub.add_parser("report", help="tables, plots and report.html from one or more run folders (re-priced with --config)")
    _reporting(rep)
    rep.add_argument("--out", type=Path, metavar="DIR",
                     help="where to write (default: the run folder for one run, a new report-<time> folder beside the first for several)")
    rec = sub.add_parser("recommend", help="the cheapest model meeting every bar on one task")
    rec.add_argument("--task", required=True, metavar="T", help="the task to choose a model for")
    rec.add_argument("--min-accuracy", type=float, metavar="A", help="fraction, 0.9 = 90%%")
    rec.add_argument("--max-p95-latency-ms", type=float, metavar="L")
    rec.add_argument("--max-usd-per-1k", type=float, metavar="C", help="USD per 1,000 requests")
    rec.add_argument("--volume-per-month", type=float, metavar="V",
                     help="requests/month: self-hosted models are then priced as whole machines at this volume")
    _reporting(rec)
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
    return top


def _reporting(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="run folders (results/<run id>)")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="models.toml whose prices replace the runs' (re-pricing without re-running)")
    p.add_argument("--utilisation", type=float, default=0.5, metavar="U",
                   help="share of the time a self-hosted machine is busy, for monthly costs and break-even (default 0.5)")
    p.add_argument("--baseline", metavar="MODEL",
                   help="API model for break-even (default: the most accurate per-token priced model of each task)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "run")
    args = parser().parse_args(argv)
    try:
        if args.command == "demo" or getattr(args, "demo", False):
            from bench.demo import run_demo

            if args.command == "run" and (args.models or args.device or args.config != Path("models.toml")):
                raise InputError("--demo builds its own two models: drop --models, --config and --device")
            limit = 16 if args.limit is None else args.limit
            return run_demo(tasks_dir=args.tasks_dir, tasks=args.tasks, limit=limit, out=args.out)[1]
        if args.command == "list":
            from bench.inventory import show

            return show(args.config, args.tasks_dir, args.models, args.tasks)
        if args.command == "task":
            from bench.taskinit import init

            init(args.data, args.input, args.target, out_dir=args.out, name=args.name)
            return EXIT_OK
        if args.command == "report":
            from bench.report.build import report

            report(args.runs, out=args.out, prices=args.config, utilisation=args.utilisation, baseline=args.baseline)
            return EXIT_OK
        if args.command == "recommend":
            return _recommend(args)
        if args.command == "sweep":
            from bench.sweep import SweepOptions, execute as sweep, parse_levels

            return sweep(SweepOptions(config=args.config, tasks_dir=args.tasks_dir, out=args.out, models=args.models,
                                      tasks=args.tasks, slo_p95_ms=args.slo_p95_ms, levels=parse_levels(args.levels),
                                      requests=args.requests, limit=args.limit, device=args.device))[1]
        if args.command == "validate":
            from bench.run import Options, prepare

            prep = prepare(Options(config=args.config, tasks_dir=args.tasks_dir, models=args.models, tasks=args.tasks))
            for task, why in prep.skipped_tasks.items():
                print(f"skipped task {task}: {why}", file=sys.stderr)
            n = sum(len(d.examples) for d in prep.tasks)
            print(f"ok: {len(prep.models)} model(s), {len(prep.tasks)} task(s), {n} examples")
            return EXIT_OK
        from bench.run import Options, execute, resumed_options

        if args.resume is not None:
            defaults = {"config": Path("models.toml"), "tasks_dir": Path("tasks"), "repeats": 1, "speed": False}
            given = {k: getattr(args, k) for k in ("config", "tasks_dir", "models", "tasks", "limit", "device",
                                                   "repeats", "speed")}
            given = {k: v for k, v in given.items() if v is not None and v != defaults.get(k)}
            return execute(resumed_options(args.resume, force=args.force, **given))[1]
        if args.force:
            raise InputError("--force only applies with --resume RUN_DIR")
        return execute(Options(config=args.config, tasks_dir=args.tasks_dir, out=args.out, models=args.models,
                               tasks=args.tasks, limit=args.limit, device=args.device, repeats=args.repeats,
                               speed=args.speed))[1]
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _recommend(args) -> int:
    from bench.recommend import Bars, lines, recommend
    from bench.report.build import load, tables

    bars = Bars(args.min_accuracy, args.max_p95_latency_ms, args.max_usd_per_1k, args.volume_per_month,
                args.utilisation)
    bars.check()
    merged = load(args.runs, args.config)
    rows, _, _ = tables(merged, args.utilisation, args.baseline)
    rec = recommend(rows, merged.records, args.task, bars)
    print("\n".join(lines(rec, bars)))
    return EXIT_OK if rec.chosen is not None else EXIT_NO_MODEL
