"""Errors meant for people: a user's mistake is reported in one message, never a traceback.

Exit codes are documented in the README and used by the CLI only.
"""

EXIT_OK = 0  # every cell finished
EXIT_BAD_INPUT = 2  # configuration, data or command-line mistake; nothing was run
EXIT_PARTIAL = 3  # the run finished but some cells failed or were skipped
EXIT_NOTHING_RAN = 4  # no cell could run (every model failed to load, say)


class InputError(Exception):
    """A mistake in the user's input: the message says what, where (file, line, key) and the fix."""
