"""Money: per-request and per-cell cost, monthly cost and break-even (cost.py), the printed plan
and its estimate (estimate.py), the confirmation and the --max-usd cap (budget.py).

Layer 5: it may import the layers below (core, backends, the run folder for a resume's spend); it
must not import execution, reports or the commands, and it sends no request."""
