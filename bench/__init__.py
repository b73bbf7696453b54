"""slm-bench: measure small local models against large API models on your own tasks."""

__version__ = "0.1.0"
