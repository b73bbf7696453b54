"""A model server the run starts itself (`backend = "served"`): its command line, a port on
127.0.0.1, readiness, its log in the run folder, and a stop that leaves nothing running: its own
process group (SIGTERM, then SIGKILL after a grace period) and the kernel's parent-death signal for
a run that is itself killed."""

from __future__ import annotations

import collections
import importlib.util
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.backends.base import Availability
from bench.config import ServedModel

HOST = "127.0.0.1"
READY_PATH = {"vllm": "/health", "transformers": "/health", "command": "/v1/models"}
METRICS_PATH = {"vllm": "/metrics"}
POLL_S = 0.25
TAIL_LINES = 12  # log lines quoted in an error
SECRET_FLAG = re.compile(r"(key|token|secret|password|passwd|auth)", re.IGNORECASE)


class ServerUnavailable(Exception):
    """The server program is not installed here: its cells are skipped with this reason."""


class ServerError(Exception):
    """The server could not start, died, or never became ready: its cells fail with this reason."""


def executable(name: str) -> str | None:
    """A program beside this Python first (a virtual environment that is not activated), then on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which(name)


def command_line(spec: ServedModel, port: int) -> list[str]:
    """The full argv that starts the server on HOST:port, the model's `args` appended."""
    if spec.server == "vllm":
        exe = executable("vllm")
        if exe is None:
            raise ServerUnavailable("vllm is not installed (no `vllm` executable beside Python or on PATH); "
                                    "pip install vllm on a machine with a supported GPU")
        name = ["--served-model-name", spec.served_model_name] if spec.served_model_name else []
        return [exe, "serve", spec.model, "--host", HOST, "--port", str(port), *name, *spec.args]
    if spec.server == "transformers":
        missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
        if missing:
            raise ServerUnavailable(f"transformers serve needs {', '.join(missing)}: pip install -e '.[served]' "
                                    f"(transformers[serving])")
        return [sys.executable, "-m", "transformers.cli.transformers", "serve", spec.model, "--host", HOST,
                "--port", str(port), "--continuous-batching", *spec.args]
    # placeholders are filled token by token: a model path with spaces stays one argument
    return [part.format(port=port, model=spec.model) for part in shlex.split(spec.command)] + list(spec.args)


def availability(spec: ServedModel, base: Path) -> Availability:
    """Whether its server's program is here (vllm, transformers serve, the command); nothing is started."""
    try:
        command_line(spec, 0)
    except ServerUnavailable as e:
        return Availability(False, f"{spec.server} server; cannot start here: {e}", "skipped",
                            f"server cannot be started here: {e}")
    return Availability(True, f"{spec.server} server started by the run")


def public_command(argv: list[str]) -> list[str]:
    """The command line for the manifest: the value of any flag that looks like a secret
    (--api-key X, --hf-token=X, key=X) replaced by [redacted]."""
    out, hide_next = [], False
    for part in argv:
        if hide_next:
            out.append("[redacted]")
            hide_next = False
            continue
        flag, eq, _ = part.partition("=")
        if SECRET_FLAG.search(flag) and (eq or part.startswith("-")):
            if eq:
                out.append(f"{flag}=[redacted]")
            else:
                out.append(part)
                hide_next = True
        else:
            out.append(part)
    return out


def server_version(spec: ServedModel) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    package = {"vllm": "vllm", "transformers": "transformers"}.get(spec.server)
    try:
        return version(package) if package else None
    except PackageNotFoundError:
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    """Something listens there (SO_REUSEADDR: connections of a stopped server in TIME_WAIT do not count,
    as they do not stop a server from binding)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def _die_with_parent() -> None:
    """In the child before exec: the kernel kills the server if the run dies (kill -9 included).
    The signal follows the thread that started the child, so servers are started from the main thread."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ManagedServer:
    """One server process: start() on a port, wait_ready(), then stop(); its output goes to
    `log_path`, each line stamped with seconds since the start."""

    def __init__(self, spec: ServedModel, log_path: Path, env: dict[str, str] | None = None):
        self.spec, self.log_path, self.env = spec, log_path, env or {}
        self.port: int | None = None
        self.argv: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.ready_s: float | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._reader: threading.Thread | None = None
        self._t0 = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        port = self.spec.port or free_port()
        self.argv = command_line(self.spec, port)  # ServerUnavailable before anything is started
        if port_in_use(port):
            # another process there would answer our readiness probe: we would measure the wrong server
            raise ServerError(f"port {port} on {HOST} is already in use (another server?); stop it, or remove "
                              f"'port' from the model so that bench picks a free one")
        self.port = port
        from bench.runfolder.store import guarded, make_dirs

        make_dirs(self.log_path.parent)  # a full disk is a StorageError here, as for every run file
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1", **self.env}
        with guarded(self.log_path):
            log = self.log_path.open("a", encoding="utf-8")
            log.write(f"# started {time.strftime('%Y-%m-%dT%H:%M:%S%z')}: {shlex.join(public_command(self.argv))}\n")
            log.flush()
        self._t0 = time.perf_counter()
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent, env=env)
        except OSError as e:  # the program does not exist or cannot run
            log.close()
            raise ServerError(f"cannot start the server: {self.argv[0]}: {e.strerror or e}") from None
        self._reader = threading.Thread(target=self._copy_log, args=(log,), daemon=True)
        self._reader.start()

    def _copy_log(self, log) -> None:
        """Drains the server's output to the log until it exits. A log the disk refuses stops the
        copying, never the draining: a server blocked on a full pipe would stall the run."""
        writing = True
        try:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                self._tail.append(line)
                if not writing:
                    continue
                try:
                    log.write(f"[{time.perf_counter() - self._t0:9.3f}s] {line}\n")
                    log.flush()
                except OSError as e:
                    writing = False
                    self._tail.append(f"(bench: the log {self.log_path} could not be written further: {e})")
        finally:
            try:
                log.close()
            except OSError:  # what the full disk refused is already said in the tail
                pass

    def tail(self) -> str:
        """The last log lines, joined on one line for an error message."""
        if self._reader is not None:
            self._reader.join(timeout=1.0)  # a server that exited: let its last words reach the tail
        lines = [line.strip() for line in self._tail if line.strip()]
        return " | ".join(lines[-TAIL_LINES:]) or "(no output)"

    def exit_code(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def wait_ready(self, stop: threading.Event | None = None) -> float | None:
        """Poll ready_path until it answers 200; returns seconds from start to ready, or None as
        soon as `stop` is set (the run is stopping: Ctrl-C does not reach the server's own session)."""
        path = self.spec.ready_path or READY_PATH[self.spec.server]
        deadline = self._t0 + self.spec.ready_timeout_s
        while True:
            if stop is not None and stop.is_set():
                return None
            code = self.exit_code()
            if code is not None:
                raise ServerError(f"the server exited ({_how(code)}) before it was ready; see {self.log_path}; "
                                  f"last lines: {self.tail()}")
            if _answers(self.url + path):
                if self.exit_code() is None:
                    self.ready_s = time.perf_counter() - self._t0
                    return self.ready_s
                continue  # it died as the probe succeeded: reported above
            if time.perf_counter() > deadline:
                raise ServerError(f"the server was not ready after {self.spec.ready_timeout_s:g} s (ready_timeout_s; "
                                  f"GET {path} never answered 200); see {self.log_path}; last lines: {self.tail()}")
            time.sleep(POLL_S)

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL after stop_grace_s; nothing of it survives."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the server leads its own group
        _signal_group(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=self.spec.stop_grace_s)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(pgid, signal.SIGKILL)  # also whatever the server started and left behind
        self.proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5.0)

    def info(self) -> dict:
        """What the manifest records about the server (no secrets in the command line)."""
        return {"name": self.spec.server, "version": server_version(self.spec),
                "command": public_command(self.argv), "port": self.port,
                "log": str(self.log_path), "ready_s": self.ready_s}

    def __enter__(self) -> ManagedServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _how(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"
