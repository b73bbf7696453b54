"""The scorers, one small module per family, each with its [score] options class; registry.py
lists them by the name a task file gives."""
