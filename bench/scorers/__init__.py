"""The scorers, one small module per family; bench.scoring picks one by name from a task file."""
