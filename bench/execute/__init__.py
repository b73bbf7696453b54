"""Running one benchmark: what a run is asked and prepare() (options.py), which model runs when and
on which GPUs (schedule.py, devices.py, timeline.py), a local model's worker process or Ray task
(local_runner.py, launch.py, ray_exec.py, worker.py, messages.py), API and served models' clients
(api_runner.py, served.py), progress lines (progress.py), and the one writer that scores, prices
and appends each answer (recording.py).

Layer 6: it may import every layer below; it must not import bench.report, bench.decide,
bench.sweep or the commands (bench.run calls the report once the run is done)."""
