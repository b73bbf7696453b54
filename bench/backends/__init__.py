"""What runs a model: the protocol and its result types (base.py), local models through transformers
(transformers.py, continuous.py, with the out-of-memory back-off in oom.py), API models through the
official SDKs (api.py, openai.py, anthropic.py), whether a Hub model can run now (hub.py), the
registry of backend kinds (registry.py), and the demo's tiny random-weight models (tinymodel.py).

Layer 2: it may import bench.config and bench.core; it must not import the scorers, the run's
stages (prepare, execute, the run folder, spend, report) or the commands. Backends measure; they
never score or price."""
