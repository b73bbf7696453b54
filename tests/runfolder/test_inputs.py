"""inputs.jsonl: the input fields of each example, kept in the run folder for the report; merged on
a resume, each field capped, a damaged file refused with its line."""

from __future__ import annotations

import json

import pytest

from bench.errors import InputError
from bench.runfolder import inputs
from bench.runfolder.store import RunStore


def lines(folder) -> list[dict]:
    return [json.loads(x) for x in (folder / inputs.INPUTS).read_text(encoding="utf-8").splitlines()]


def test_rows_are_saved_loaded_and_merged_on_a_resume(tmp_path):
    store = RunStore(tmp_path)
    assert inputs.load(tmp_path) == {}  # a run from before the file
    inputs.save(store, [inputs.row("t", "007", {"text": "first"}), inputs.row("t", 8, {"text": "second"})])
    assert inputs.load(tmp_path) == {("t", "007"): {"text": "first"}, ("t", "8"): {"text": "second"}}
    before = (tmp_path / inputs.INPUTS).read_bytes()
    inputs.save(store, [inputs.row("t", "007", {"text": "changed"})])  # nothing new: the file is left as it was
    assert (tmp_path / inputs.INPUTS).read_bytes() == before
    inputs.save(store, [inputs.row("t", "007", {"text": "changed"}), inputs.row("u", "007", {"q": "other task"})])
    assert [(r["task"], r["example_id"], r["inputs"]) for r in lines(tmp_path)] == [
        ("t", "007", {"text": "first"}), ("t", "8", {"text": "second"}), ("u", "007", {"q": "other task"})]


def test_a_long_field_is_cut_saying_how_much(tmp_path):
    row = inputs.row("t", "a", {"doc": "x" * (inputs.FIELD_CAP_CHARS + 5), "n": 3})
    assert row["inputs"]["doc"] == "x" * inputs.FIELD_CAP_CHARS + " [... 5 more characters]"
    assert row["inputs"]["n"] == "3"


@pytest.mark.parametrize("line", ['{"task": "t", "example_id": 7, "inputs": {}}',
                                  '{"task": "t", "example_id": "7", "inputs": {"a": 1}}',
                                  '{"task": "t", "example_id": "7"}'])
def test_a_damaged_line_is_refused_naming_it(tmp_path, line):
    (tmp_path / inputs.INPUTS).write_text('{"task": "t", "example_id": "1", "inputs": {}}\n' + line + "\n")
    with pytest.raises(InputError, match=r"inputs.jsonl: line 2 is not a \(task, example_id, inputs\) row"):
        inputs.load(tmp_path)
    (tmp_path / inputs.INPUTS).write_text("{not json\n")
    with pytest.raises(InputError, match=r"inputs.jsonl:1: corrupted line"):
        inputs.load(tmp_path)
