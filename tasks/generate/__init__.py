"""Seeded generators for the data of the shipped tasks (see README.md here)."""
