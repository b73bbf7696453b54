"""`bench demo`: two tiny random-weight models of different sizes, built on the spot, run through
the real pipeline on the shipped tasks. It shows what a run produces; its accuracy means nothing.

Its time (benchmarks/demo_time.py) goes to starting each model's worker (torch and transformers
imported there), generating and drawing the report; this process builds the models without torch
(tinymodel.write, one tokenizer for both) and the workers run torch on one CPU thread each."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from bench.backends import tinymodel
from bench.execute.options import Options, prepare_tasks
from bench.prepare.taskfiles import load_tasks
from bench.run import execute

NOMINAL_USD_PER_HOUR = 0.10  # a small cloud VM; re-price with `bench report RUN --config FILE`

WARNING = ("DEMO: two tiny models with RANDOM weights, built on this machine. The accuracy figures "
           "mean nothing; the timings show only how fast this machine runs such tiny models (on one CPU "
           f"thread each); costs use a nominal ${NOMINAL_USD_PER_HOUR:.2f}/h for this machine.")

# name -> (hidden size, layers, attention heads, chat template policy): two sizes, both template paths
SIZES = {"demo-tiny": (64, 2, 4, "auto"), "demo-small": (256, 4, 8, "none")}
# how much longer the EOS row of the embedding is: with tinymodel.write's draws, 2.0 ends answers
# at varied lengths (some cut at max_new_tokens) about as long as the torch-built models' at 1.6
EOS_BOOST = 2.0


def corpus(tasks_dir: Path) -> list[str]:
    """Tokenizer training text: every string in the project's own task data."""
    lines = []
    for f in sorted((tasks_dir / "data").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            lines += [v for v in json.loads(line).values() if isinstance(v, str)] if line.strip() else []
    return lines or ["The quick brown fox answers support tickets.", "Total: 12.50 EUR"]


def write_models(model_dir: Path, tasks_dir: Path) -> Path:
    """Build the demo models and a models.toml that points at them; return its path."""
    tok = tinymodel.bpe(corpus(tasks_dir))  # one tokenizer, trained once, for both models
    # a nominal price, so that the demo's cost columns and plots show something: not a quote
    toml = ['[hardware.this-machine]', f'usd_per_hour = {NOMINAL_USD_PER_HOUR}',
            'description = "the machine running the demo, at a nominal price"', ""]
    for seed, (name, (hidden, layers, heads, template)) in enumerate(SIZES.items()):
        path = tinymodel.write(model_dir / name, tok, hidden=hidden, layers=layers, heads=heads, seed=seed,
                               eos_boost=EOS_BOOST)
        toml += [f"[models.{name}]", 'backend = "transformers"', f"model = {json.dumps(str(path))}",
                 'dtype = "float32"', 'device = "cpu"', "batch_size = 8", f'chat_template = "{template}"',
                 'hardware = "this-machine"', ""]
    config = model_dir / "models.toml"
    config.write_text("\n".join(toml), encoding="utf-8")
    return config


def local_tasks(tasks_dir: Path) -> list[str]:
    """The tasks whose data ships in the folder: Hub tasks would need a download, the demo must not."""
    return [t.name for t in load_tasks(tasks_dir) if t.spec.data.path is not None]


def run_demo(*, tasks_dir: Path = Path("tasks"), tasks: str | None = None, limit: int = 16,
             out: Path = Path("results"), **placing) -> tuple[Path, int]:
    """The demo run; placing: Options' parallel, devices, executor and ray_address (to try them)."""
    if tasks is None:
        tasks = ",".join(local_tasks(tasks_dir))
    opts = Options(tasks_dir=tasks_dir, tasks=tasks, limit=limit, out=out, title="DEMO run", notes=[WARNING],
                   resumable=False, **placing)  # its models.toml lives in a temporary folder
    prepare_tasks(opts)  # a bad task folder or --limit fails before time goes into building models
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp, one_thread():
        opts.config = write_models(Path(tmp), tasks_dir)
        return execute(opts)


@contextmanager
def one_thread():
    """The demo's workers (which inherit this environment) run torch on one CPU thread, unless
    OMP_NUM_THREADS is set. On an idle machine a second thread speeds the larger demo model up by
    less than 2x; on a busy one a tiny model's many small operations each wait for a thread that
    another program holds, and the demo took several times longer (benchmarks/demo_time.py). The
    manifest records the threads used."""
    if "OMP_NUM_THREADS" in os.environ:
        yield
        return
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        os.environ.pop("OMP_NUM_THREADS", None)
