"""The user's question declared once: models.toml's [decision] table and the flags of `run`,
`report` and `recommend` that override it. Every mistake is one line naming the key (with its
file and line) or the flag, exit 2, and nothing written."""

from __future__ import annotations

import pytest
from config.test_config import BOTH, Project, assert_bad_input, bench, line_of

from bench.config.decision import from_flags
from bench.errors import InputError


@pytest.fixture
def project(tmp_path, monkeypatch) -> Project:
    monkeypatch.chdir(tmp_path)  # a default ./results would land here, never in the repository
    return Project(tmp_path)


DECISION = '\n[decision]\nreference = "tiny"\nvolume_per_month = 50000\np95_target_ms = 800\nmin_accuracy = 0.8\nmargin_points = 3\n'


def test_a_decision_table_is_read_and_its_keys_are_given(project, capsys):
    from bench.config import load_models

    project.models.write_text(project.models.read_text() + DECISION)
    code, err = bench(project, capsys, "validate")
    assert code == 0, err
    assert load_models(project.models).decision.given() == {
        "reference": "tiny", "volume_per_month": 50000.0, "p95_target_ms": 800.0, "min_accuracy": 0.8,
        "margin_points": 3.0}
    project.models.write_text(project.models.read_text().replace(DECISION, "\n[decision]\n"))
    assert load_models(project.models).decision.given() == {}  # an empty table: every default


@BOTH
@pytest.mark.parametrize("line, key, says", [
    ('reference = "gpt-9"', "decision.reference", "reference 'gpt-9' is not a model of this file (known: tiny)"),
    ("margin_points = -1", "decision.margin_points", "greater than or equal to 0"),
    ("margin_points = 101", "decision.margin_points", "less than or equal to 100"),
    ("volume_per_month = 0", "decision.volume_per_month", "greater than 0"),
    ("p95_target_ms = inf", "decision.p95_target_ms", "finite number"),
    ("p95_target_ms = nan", "decision.p95_target_ms", "finite number"),
    ('p95_target_ms = "fast"', "decision.p95_target_ms", "valid number"),
    ("min_accuracy = 80", "decision.min_accuracy", "less than or equal to 1"),
    ("volume = 5", "decision.volume", "unknown key"),
])
def test_a_bad_decision_key_names_its_file_line_and_key(project, capsys, command, line, key, says):
    project.models.write_text(project.models.read_text() + f"\n[decision]\n{line}\n")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, line), key=key,
                     contains=(says,))
    assert err.count("\n") == 1  # one line


@pytest.mark.parametrize("flag, value, says", [
    ("--volume-per-month", "0", "--volume-per-month 0: must be above 0"),
    ("--volume-per-month", "-5", "--volume-per-month -5: must be above 0"),
    ("--p95-target-ms", "fast", "--p95-target-ms 'fast': not a number"),
    ("--p95-target-ms", "inf", "--p95-target-ms inf: must be a finite number"),
    ("--p95-target-ms", "nan", "--p95-target-ms nan: must be a finite number"),
    ("--margin-points", "-1", "--margin-points -1: give percentage points between 0 and 100"),
    ("--margin-points", "101", "--margin-points 101: give percentage points between 0 and 100"),
    ("--min-accuracy", "80", "--min-accuracy 80: give a fraction between 0 and 1"),
    ("--reference", "nope", "--reference nope: not among this run's models (tiny)"),
])
def test_a_bad_question_flag_of_run_is_one_line_and_no_folder(project, capsys, flag, value, says):
    code, err = bench(project, capsys, "run", flag, value)
    assert_bad_input(project, code, err, contains=(says,))
    assert err.count("\n") == 1


def test_from_flags_converts_and_checks():
    assert from_flags({"reference": "big", "volume_per_month": "5e4", "p95_target_ms": None,
                       "min_accuracy": "0.9", "margin_points": "0"}) == {
        "reference": "big", "volume_per_month": 50000.0, "min_accuracy": 0.9, "margin_points": 0.0}
    assert from_flags({"margin_points": "100"}) == {"margin_points": 100.0}  # the bounds are allowed
    with pytest.raises(InputError, match="^--max-p95-latency-ms 0: must be above 0$"):
        from_flags({"p95_target_ms": "0"}, {"p95_target_ms": "--max-p95-latency-ms"})
    with pytest.raises(InputError, match="^--reference: give a model name$"):
        from_flags({"reference": " "})


def test_a_run_of_some_models_leaves_a_reference_it_does_not_run_out_with_a_note(project):
    from bench.execute.options import Options, prepare

    project.models.write_text(project.models.read_text() + '\n[models.other]\nbackend = "openai"\nmodel = "x"\n'
                              'base_url = "http://localhost:1/v1"\n\n[decision]\nreference = "other"\nmargin_points = 2\n')
    prep = prepare(Options(config=project.models, tasks_dir=project.tasks, models="tiny"))
    assert prep.question == {"margin_points": 2.0}
    assert "[decision] reference 'other' is not in this run (--models)" in prep.question_note
    prep = prepare(Options(config=project.models, tasks_dir=project.tasks, question={"margin_points": 4.0}))
    assert prep.question == {"reference": "other", "margin_points": 4.0} and prep.question_note is None


def test_a_resumed_run_keeps_its_question_under_the_flags_given_now(tmp_path):
    import json

    from bench.execute.options import resumed_options

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"run_id": "run", "options": {},
                                                      "question": {"reference": "a", "margin_points": 3.0}}))
    assert resumed_options(folder).question == {"reference": "a", "margin_points": 3.0}
    assert resumed_options(folder, question={"margin_points": 1.0}).question == {"reference": "a", "margin_points": 1.0}
