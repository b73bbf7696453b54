"""Errors meant for people: a user's mistake is reported in one message, never a traceback.

Exit codes are documented in the README and used by the CLI only.
"""

EXIT_OK = 0  # every cell finished
EXIT_BAD_INPUT = 2  # configuration, data or command-line mistake; nothing was run
EXIT_PARTIAL = 3  # the run finished but some cells failed or were skipped
EXIT_NOTHING_RAN = 4  # no cell could run (every model failed to load, say)
EXIT_BUDGET = 5  # --max-usd stopped the run before every request was sent (resumable)


def one_line(e: BaseException, limit: int = 300) -> str:
    """An exception as one line for a record or a log: its type and its whole message, whitespace
    collapsed, capped."""
    text = " ".join(str(e).split())
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return f"{type(e).__name__}: {text}".strip(": ")


class InputError(Exception):
    """A mistake in the user's input: the message says what, where (file, line, key) and the fix."""


def exit_code(statuses: list[str]) -> int:
    """The run's exit code from its cells' statuses. A model skipped for want of its API key was
    not asked for in earnest (the default registry lists many): reported, but not a failure."""
    wanted = [s for s in statuses if s != "no_key"]
    ok = sum(s == "ok" for s in wanted)
    if wanted and ok == len(wanted):
        return EXIT_OK
    return EXIT_NOTHING_RAN if ok == 0 else EXIT_PARTIAL
