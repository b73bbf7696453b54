"""The scorers, one small module per family, each with its [score] options class (base.py holds
the shared ones); registry.py lists them by the name a task file gives; sqlsandbox.py runs a
model's SQL read-only. Scoring's public names are re-exported by bench/scoring.py.

Layer 2: it may import bench.config (the [score] table's reading) and bench.core; it must not
import a backend, the run's stages, bench.scoring or the commands. Scorers are pure: they touch no
file but the SQL sandbox's database and no network."""
