"""A served model's server process: starting it, its log, waiting until it answers, stopping every
process it started (server.py), and reading its Prometheus /metrics (servermetrics.py).

Layer 5: it may import config, core, backends and the run folder (the server's log lives there); it
must not import execution, reports or the commands."""
