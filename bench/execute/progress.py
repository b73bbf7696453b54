"""Progress of the cells as they run: a live bar on a terminal, one whole line per finished cell
in a log or a pipe (several models may close cells at once, from their own threads)."""

from __future__ import annotations

import sys
import threading


def stderr_progress(total: int, desc: str):
    """A live bar on a terminal; in a file or a pipe (CI logs), one line per finished cell instead
    of the bar's carriage-return frames."""
    if getattr(sys.stderr, "isatty", lambda: False)():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="ex", file=sys.stderr, leave=True, dynamic_ncols=True)
    return LineProgress(total, desc)


_PRINTING = threading.Lock()


class LineProgress:
    """The progress bar's interface (update, set_postfix, close), printing one line when closed:
    'model x task: 16/16 examples (retries=3)'. No time: a local cell's bar starts at its first
    batch, so its span would understate the cell; the table has the cell's wall time."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.n, self.postfix, self._closed = total, desc, 0, {}, False

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, values: dict, refresh: bool = True) -> None:
        self.postfix = dict(values)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        extra = ", ".join(f"{k}={v}" for k, v in self.postfix.items() if v)
        line = f"{self.desc}: {self.n}/{self.total} examples" + (f" ({extra})" if extra else "")
        with _PRINTING:  # models running at once close their cells from several threads: whole lines
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
