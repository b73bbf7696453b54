"""Tables, plots and report.html recomputed from run folders: `bench report` (build.py), merging
and pricing runs (runs.py), the summary rows (summary.py, table.py), the figures (plots.py,
sweepplot.py) and the page (html.py).

Layer 7: it may import every layer below (core, spend, the run folder, ...); it must not import
execution, bench.decide, bench.sweep or the commands. Bad input leaves no file: nothing is written
before everything is computed."""
