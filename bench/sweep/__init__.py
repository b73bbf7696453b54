"""`bench sweep`: capacity under a latency target. capacity.py runs the levels, applies the stopping
rule and writes sweep.jsonl and its plot; drivers.py runs one level on a local, served or API model.

Layer 8: it may import every layer up to bench.report; it must not import bench.decide, bench.run,
bench.demo or bench.cli. A sweep writes its own folder, never a run's records."""
