"""Decisions over finished run folders: `bench compare` (compare.py, the CI gate) and
`bench recommend` (recommend.py). Pure reads: neither writes a run folder.

Layer 8: it may import every layer up to bench.report; it must not import bench.sweep, bench.run,
bench.demo or bench.cli."""
