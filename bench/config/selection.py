"""The --models / --tasks selection: comma-separated names resolved against what the files define."""

from __future__ import annotations

from bench.errors import InputError


def select(names: str | None, available: list[str], what: str, flag: str) -> list[str]:
    """Resolve a comma-separated --models/--tasks selection, keeping the config's order."""
    if names is None:
        return list(available)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        raise InputError(f"{flag}: names no {what}; give comma-separated names or leave the flag out")
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise InputError(f"{flag}: unknown {what} {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(available) or 'none'})")
    return [n for n in available if n in wanted]
