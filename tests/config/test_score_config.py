"""[score] options through the real command line: each scorer's options, and each mistake one
"error: file:line: key ..." line with exit code 2."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.config.test_config import Project, assert_bad_input, bench, line_of


@pytest.fixture
def project(tmp_path, monkeypatch) -> Project:
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


def set_score(p: Project, body: str) -> None:
    text = p.task.read_text(encoding="utf-8")
    p.task.write_text(text[: text.index("[score]")] + "[score]\n" + textwrap.dedent(body), encoding="utf-8")


@pytest.mark.parametrize("body, line_key, key, contains", [
    ('scorer = "sql_execution"\ntarget = "{text}"\n', "[score]", "score.database", ("needs 'database'",)),
    ('scorer = "sql_execution"\ntarget = "{text}"\ndatabase = "nope.sql"\n', "database", "score.database",
     ("not found",)),
    ('scorer = "regex"\ntarget = "{queue}"\n', "[score]", "score.pattern", ("needs 'pattern'",)),
    ('scorer = "regex"\ntarget = "{queue}"\npattern = "([a-z"\n', "pattern", "score.pattern",
     ("invalid regular expression",)),
    ('scorer = "exact"\ntarget = "{queue}"\ntarget_pattern = "(("\n', "target_pattern", "score.target_pattern",
     ("invalid regular expression",)),
    ('scorer = "exact"\ntarget = "{queue}"\nlabels = ["a", "b"]\n', "labels", "score.labels",
     ("not an option of scorer 'exact'",)),
    ('scorer = "number"\ntarget = "{queue}"\npattern = "x"\n', "pattern", "score.pattern",
     ("not an option of scorer 'number'",)),
    ('scorer = "label"\ntarget = "{queue}"\nlabels = ["billing", "refunds"]\nprimary = "loose"\n', "primary",
     "score.primary", ("strict", "lenient")),
    ('scorer = "no_such_module_xyz:score"\ntarget = "{queue}"\n', "scorer", "score.scorer",
     ("cannot import module 'no_such_module_xyz'",)),
    ('scorer = "json:no_such_function"\ntarget = "{queue}"\n', "scorer", "score.scorer",
     ("has no function 'no_such_function'",)),
    ('scorer = "json:dumps"\ntarget = "{queue}"\n', "scorer", "score.scorer", ()),
    ('scorer = "rouge"\ntarget = "{queue}"\n', "scorer", "score.scorer", ("unknown scorer", "rouge_l")),
])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_score_options(project, capsys, command, body, line_key, key, contains):
    set_score(project, body)
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, line_key if line_key[0] == "[" else line_key + " ="),
                     key=key, contains=contains)


def test_user_scorer_with_wrong_signature(project, capsys):
    (project.tasks / "myscorers.py").write_text("def one(x):\n    return 1.0\n", encoding="utf-8")
    set_score(project, 'scorer = "myscorers:one"\ntarget = "{queue}"\n')
    code, err = bench(project, capsys, "validate")
    assert_bad_input(project, code, err, file=project.task, key="score.scorer",
                     contains=("must take two arguments (output: str, target: str)",))


def test_user_scorer_beside_the_task_is_found_and_used(project, capsys):
    (project.tasks / "my_queue_scorer.py").write_text(textwrap.dedent("""
        def score(output, target):
            return output.strip().lower().startswith(target)
    """), encoding="utf-8")
    set_score(project, 'scorer = "my_queue_scorer:score"\ntarget = "{queue}"\n')
    code, err = bench(project, capsys, "validate")
    assert code == 0, err
    from bench import scoring
    from bench.prepare import tasks
    from bench.prepare.taskfiles import load_task
    task = load_task(project.task)
    sc = scoring.from_spec(task.spec.score, project.tasks)
    assert sc("Billing, surely", "billing").value == 1.0
    assert sc("refunds", "billing").value == 0.0
    assert "returned False" in sc("refunds", "billing").reason
    assert tasks.load(task).examples


def test_sql_task_with_a_bad_reference_query_fails_before_running(project, capsys):
    (project.tasks / "data" / "db.sql").write_text("CREATE TABLE q (name TEXT);", encoding="utf-8")
    rows = [{"text": "all names", "sql": "SELECT name FROM q"}, {"text": "typo", "sql": "SELECT nme FROM q"}]
    project.data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    set_score(project, 'scorer = "sql_execution"\ntarget = "{sql}"\ndatabase = "data/db.sql"\n')
    code, err = bench(project, capsys, "validate")
    assert_bad_input(project, code, err, file=project.task,
                     contains=("reference query fails in the sandbox", "no such column: nme"))


def test_choice_options_must_be_a_list(project, capsys):
    rows = [{"text": "q", "queue": "B", "opts": "not a list"}]
    project.data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    set_score(project, 'scorer = "choice"\ntarget = "{queue}"\noptions = "{opts}"\n')
    code, err = bench(project, capsys, "validate")
    assert_bad_input(project, code, err, file=project.task, contains=("options must render to a JSON list",))
