"""A user's own scorer named in a task file as "package.module:function"."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Callable

from bench.errors import one_line
from bench.scorers.base import Score, ScoreOptions, Scorer

SPEC_RE = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"


def load(spec: str, search_dir: Path | None = None) -> Callable:
    """Import the function; ValueError with the reason when it cannot be used. The task file's
    folder is searched too, so a scorer module can live beside the task."""
    module_name, _, func_name = spec.partition(":")
    if search_dir is not None and str(search_dir) not in sys.path:
        sys.path.append(str(search_dir))
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # ImportError, or any error the module raises while importing
        raise ValueError(f"cannot import module {module_name!r} ({one_line(e)}); is it on PYTHONPATH?") from None
    fn = getattr(module, func_name, None)
    if not callable(fn):
        raise ValueError(f"module {module_name!r} has no function {func_name!r}")
    try:
        inspect.signature(fn).bind("output", "target")
    except TypeError:
        raise ValueError(f"{spec} must take two arguments (output: str, target: str) and return "
                         f"a float, a bool or a bench.scoring.Score") from None
    except ValueError:  # a builtin without a signature: trust it
        pass
    return fn


def user(fn: Callable, name: str) -> Scorer:
    """Wrap the user's function: a float or bool becomes a Score; an exception scores 0 with the
    reason instead of stopping the run."""

    def score(output: str, target: str) -> Score:
        try:
            result = fn(output, target)
        except Exception as e:
            return Score(0.0, None, f"{name} raised {one_line(e)}")
        if isinstance(result, Score):
            return result
        if isinstance(result, (bool, int, float)):
            return Score(float(result), None, f"{name} returned {result!r}")
        return Score(0.0, None, f"{name} returned {type(result).__name__}, not a number or a Score")

    return score


class UserOptions(ScoreOptions):
    """scorer = "package.module:function": the function must import and take (output, target)."""

    def file_problem(self, base):
        try:
            load(self.scorer, base)
        except ValueError as e:
            return "scorer", str(e)
        return None

    def scorer_file(self, base):
        """The source of the scorer's module, when it can be found (beside the task file too)."""
        import importlib.util

        module = self.scorer.partition(":")[0]
        added = str(base) not in sys.path
        if added:
            sys.path.append(str(base))
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        finally:
            if added:
                sys.path.remove(str(base))
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        return ("module", origin) if origin is not None and origin.is_file() else None

    def kwargs(self, base):
        return {"spec": self.scorer, "search_dir": base}


def user_scorer(*, spec: str, search_dir: Path | None = None) -> Scorer:
    """The user's function named by `spec`, imported (ValueError when it cannot be) and wrapped."""
    return user(load(spec, search_dir), spec)
