"""Tables (and later plots and report.html) recomputed from a run's records and cells."""
