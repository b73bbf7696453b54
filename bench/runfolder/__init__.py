"""The run folder and its format: the append-only records and cells and reading a run back
(store.py), the one-writer lock (lock.py), the format's version and the upgrade of older runs
(migrate.py), what manifest.json records (manifest.py), and what a stopped run left to do
(resume.py).

Layer 4: it may import config, core and backends (a model's kind and public URL for the manifest);
it must not import prepare, spending, execution, reports or the commands."""
