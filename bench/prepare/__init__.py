"""Everything a run reads and checks before a run folder exists or a model loads: the task files
with their scorers (taskfiles.py), examples from files or the Hub with stable ids (tasks.py), where
the shipped tasks are (shipped.py), rendered prompts and checked targets (planning.py), device and
context-length checks (preflight.py), what can run now and `bench list` (inventory.py, skips.py),
and `bench task init` (taskinit.py).

Layer 4: it may import config, core, backends, scorers and bench.scoring; it must not import the
run folder (bench.runfolder), spending, execution, reports or the commands."""
