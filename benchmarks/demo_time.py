"""How long `python -m bench demo` takes, end to end, from an empty folder, as a user runs it: wall
time, and a breakdown by phase read from when each line of its output appears (no change to the
demo itself). Each repeat is a fresh process in a fresh folder; the table shows every repeat, then
the medians, and the machine's load average before each run (a demo beside other work is slower:
compare figures taken together). `cpu s` is the user + system time of the demo and its workers,
which moves less with the load than the wall time; `out tok` the output tokens generated (random
models: how long their answers ran decides much of the time).

    python benchmarks/demo_time.py [--repeats 3] [--source DIR ...] [-- DEMO FLAGS, e.g. --limit 4]

--source DIR runs the demo of another checkout of bench (an older commit, say: `git worktree add`
or `git archive COMMIT | tar -x -C DIR`); given more than once, each repeat runs every source in
turn, so that they share the machine's load. Default: this checkout.

Phases (each ends at the line named):
  build    start -> "run ...: 2 model(s) x ..."  python and bench imports, the tokenizer trained and
                                                  the two models built, tasks read and rendered
  <model>  -> that model's last "x TASK: n/n examples" line  its worker process started (torch
                                                  imported), the model loaded, every task generated,
                                                  scored and recorded
  report   -> "report: .../report.html"         tables, plots and report.html
  exit     -> the process ends                    the summary printed, the temporary models removed
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELL = re.compile(r"^(\S+) x \S+: \d+/\d+ examples")


def _reader(stream, name: str, lines: queue.Queue) -> None:
    for line in stream:
        lines.put((time.perf_counter(), name, line.rstrip("\n")))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_lines(flags: list[str], cwd: Path, source: Path) -> tuple[float, float, list[tuple[float, str, str]], int]:
    """(wall s, cpu s, [(s since start, stream, line)], exit code) of one `python -m bench demo`."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(source))
    lines: queue.Queue = queue.Queue()
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench", "demo", *flags], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    readers = [threading.Thread(target=_reader, args=(s, n, lines)) for s, n in ((proc.stdout, "out"), (proc.stderr, "err"))]
    for r in readers:
        r.start()
    code = proc.wait()
    wall = time.perf_counter() - t0
    for r in readers:
        r.join()
    got = sorted(lines.queue)
    return wall, _children_cpu() - cpu0, [(t - t0, name, line) for t, name, line in got], code


def output_tokens(folder: Path) -> int:
    """Output tokens over every record of the run made in folder."""
    return sum(json.loads(line).get("output_tokens") or 0
               for records in folder.glob("results/*/records.jsonl") for line in records.open(encoding="utf-8"))


def phases(wall: float, lines: list[tuple[float, str, str]]) -> dict[str, float]:
    """Seconds per phase (docstring), in order; a phase whose line never came is left out."""
    marks: dict[str, float] = {}
    for t, _, line in lines:
        if line.startswith("run ") and " model(s) x " in line:
            marks.setdefault("build", t)
        elif (m := CELL.match(line)):
            marks[m.group(1)] = t  # the model's last cell so far
        elif line.startswith("report: "):
            marks.setdefault("report", t)
    marks["exit"] = wall
    out, before = {}, 0.0
    for name, t in sorted(marks.items(), key=lambda kv: kv[1]):
        out[name] = t - before
        before = t
    return out


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def one(flags: list[str], source: Path) -> dict:
    """One demo in a fresh folder: its figures, or SystemExit with its last lines when it failed."""
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="demo-time-") as tmp:
        wall, cpu, lines, code = timed_lines(flags, Path(tmp), source)
        if code != 0:
            tail = "\n".join(line for _, _, line in lines[-20:])
            raise SystemExit(f"bench demo ({source}) exited {code}:\n{tail}")
        tokens = output_tokens(Path(tmp))
    return {"wall": wall, "cpu": cpu, "tokens": tokens, "load": load_before, "phases": phases(wall, lines)}


def table(rows: list[tuple[str, dict]]) -> list[str]:
    """The figures of every run, then the median of each source."""
    names = list(dict.fromkeys(n for _, r in rows for n in r["phases"]))
    head = ["source", "load before", "wall s", "cpu s", "out tok", *[f"{n} s" for n in names]]

    def line(label: str, load_before: str, runs: list[dict]) -> list[str]:
        med = {k: statistics.median(r[k] for r in runs) for k in ("wall", "cpu", "tokens")}
        return [label, load_before, f"{med['wall']:.1f}", f"{med['cpu']:.1f}", f"{med['tokens']:.0f}",
                *[f"{statistics.median(r['phases'].get(n, float('nan')) for r in runs):.1f}" for n in names]]

    body = [line(label, r["load"].split()[0], [r]) for label, r in rows]
    for label in dict.fromkeys(label for label, _ in rows):
        body.append(line(f"median {label}", "", [r for lab, r in rows if lab == label]))
    widths = [max(len(r[c]) for r in [head, *body]) for c in range(len(head))]
    return ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in [head, ["-" * w for w in widths], *body]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="demo runs per source, each in a fresh folder (default 3)")
    ap.add_argument("--source", type=Path, action="append", metavar="DIR",
                    help="a bench checkout to time (repeatable; default: this one)")
    ap.add_argument("flags", nargs="*", help="after --: flags passed to `bench demo`")
    args = ap.parse_args()
    sources = [p.resolve() for p in args.source or [ROOT]]
    names = [s.name for s in sources]
    labels = {s: ("this" if len(sources) == 1 else s.name if names.count(s.name) == 1 else str(s)) for s in sources}
    threads = f"; OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}" if "OMP_NUM_THREADS" in os.environ else ""
    print(f"{os.cpu_count()} CPUs{threads}; bench demo {' '.join(args.flags) or '(defaults)'}; sources: "
          + ", ".join(f"{labels[s]} = {s}" for s in sources))
    rows = []
    for i in range(args.repeats):
        for source in sources:
            rows.append((labels[source], one(args.flags, source)))
            print(f"  run {i + 1} {labels[source]}: {rows[-1][1]['wall']:.1f} s", flush=True)
    print("\n".join(table(rows)))
    print(f"load average (1, 5, 15 min) after: {load()}")


if __name__ == "__main__":
    main()
