"""The core data every stage reads and writes, and the pure figures computed from it: a record, a
cell and a summary row (types.py), how a model is priced and what a cell cost (pricing.py), one JSON
type per column (shapes.py), intervals, percentiles and paired tests (stats.py), clocks, memory and
energy meters and the environment fingerprint (measure.py, meters.py).

Layer 1 (docs/architecture.md, "Layers"): it must not import any other part of bench but
bench.errors and bench.safetext; in particular not bench.config, nor a backend, nor the code that
prices (bench.spend), which reads these types."""
