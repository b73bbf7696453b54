"""The bad-input catalogue, through the real command line: every mistake in models.toml, a task
file, its data or the flags is one "error: ..." line naming the file, line and key, exit code 2,
no traceback, and no run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.config import key_line

MODELS = """\
[hardware.ci]
usd_per_hour = 0.5

[models.tiny]
backend = "transformers"
model = "some-org/some-model"
device = "cpu"
batch_size = 4
hardware = "ci"
"""

TASK = """\
description = "route tickets"

[data]
path = "data/t.jsonl"

[prompt]
system = "You route support tickets."
user = "Ticket: {text}"

[score]
scorer = "label"
target = "{queue}"
labels = ["billing", "refunds"]
"""

ROWS = [{"text": "I was charged twice", "queue": "billing"},
        {"text": "I want my money back", "queue": "refunds"},
        {"text": "Invoice is wrong", "queue": "billing"}]


class Project:
    def __init__(self, root: Path):
        self.root = root
        self.models = root / "models.toml"
        self.tasks = root / "tasks"
        self.task = self.tasks / "t.toml"
        self.data = self.tasks / "data" / "t.jsonl"
        self.out = root / "res"
        (self.tasks / "data").mkdir(parents=True)
        self.models.write_text(MODELS, encoding="utf-8")
        self.task.write_text(TASK, encoding="utf-8")
        self.data.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")

    def edit(self, path: Path, old: str, new: str) -> str:
        text = path.read_text(encoding="utf-8")
        assert old in text, f"test setup: {old!r} not in {path}"
        text = text.replace(old, new, 1)
        path.write_text(text, encoding="utf-8")
        return text


@pytest.fixture
def project(tmp_path, monkeypatch) -> Project:
    monkeypatch.chdir(tmp_path)  # a default ./results would land here, never in the repository
    return Project(tmp_path)


def bench(p: Project, capsys, command: str, *extra: str) -> tuple[int, str]:
    argv = [command, "--config", str(p.models), "--tasks-dir", str(p.tasks)]
    if command == "run":
        argv += ["--out", str(p.out)]
    code = main(argv + list(extra))
    return code, capsys.readouterr().err


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    seen = 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return n
    raise AssertionError(f"test setup: {needle!r} not in {path}")


def assert_bad_input(p: Project, code: int, err: str, *, file: Path | None = None, line: int | None = None,
                     key: str | None = None, contains: tuple[str, ...] = ()) -> None:
    assert code == 2, err
    assert err.startswith("error: "), err
    assert "Traceback" not in err, err
    if file is not None:
        assert str(file) in err, err
    if line is not None:
        assert f"{file}:{line}" in err, err
    if key is not None:
        assert f"'{key}'" in err, err
    for text in contains:
        assert text in err, err
    for out in (p.out, p.root / "results"):
        assert not out.exists() or not any(out.iterdir()), f"a run folder was created in {out}"


BOTH = pytest.mark.parametrize("command", ["validate", "run"])


def test_base_project_is_valid(project, capsys):
    # every case below differs from this valid project by one mistake
    code, err = bench(project, capsys, "validate")
    assert code == 0, err
    assert err == ""


# ---------------------------------------------------------------- models.toml


@BOTH
def test_models_toml_syntax_error(project, capsys, command):
    project.edit(project.models, 'model = "some-org/some-model"', 'model = "some-org/some-model')
    code, err = bench(project, capsys, command)
    line = line_of(project.models, 'model = "some-org')
    assert_bad_input(project, code, err, file=project.models, contains=("TOML syntax error", f"line {line}"))


@BOTH
def test_unknown_key_in_model(project, capsys, command):
    project.edit(project.models, "batch_size = 4", 'batch_size = 4\ncolour = "red"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "colour"),
                     key="models.tiny.colour", contains=("unknown key",))


@BOTH
def test_wrong_type(project, capsys, command):
    project.edit(project.models, "batch_size = 4", 'batch_size = "big"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "batch_size"),
                     key="models.tiny.batch_size", contains=("integer",))


@BOTH
def test_negative_batch_size(project, capsys, command):
    project.edit(project.models, "batch_size = 4", "batch_size = -3")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "batch_size"),
                     key="models.tiny.batch_size", contains=("1",))


@BOTH
def test_duplicate_model_name(project, capsys, command):
    project.models.write_text(MODELS + '\n[models.tiny]\nbackend = "transformers"\nmodel = "other/model"\n',
                              encoding="utf-8")
    code, err = bench(project, capsys, command)
    line = line_of(project.models, "[models.tiny]", nth=2)
    assert_bad_input(project, code, err, file=project.models, contains=("tiny", f"line {line}"))


@BOTH
def test_unknown_backend(project, capsys, command):
    project.edit(project.models, 'backend = "transformers"', 'backend = "vllm"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "backend"),
                     key="models.tiny.backend", contains=("transformers",))


@BOTH
def test_invalid_dtype(project, capsys, command):
    project.edit(project.models, 'device = "cpu"', 'device = "cpu"\ndtype = "float8"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "dtype"),
                     key="models.tiny.dtype", contains=("float8", "bfloat16"))


@BOTH
def test_invalid_device_in_config(project, capsys, command):
    project.edit(project.models, 'device = "cpu"', 'device = "gpu0"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "device"),
                     key="models.tiny.device", contains=("gpu0", "cuda:N"))


@BOTH
def test_unknown_engine(project, capsys, command):
    project.edit(project.models, 'device = "cpu"', 'device = "cpu"\nengine = "paged"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "engine"),
                     key="models.tiny.engine", contains=("paged", "'static' or 'continuous'"))


@BOTH
def test_continuous_engine_option_on_the_static_engine(project, capsys, command):
    project.edit(project.models, 'device = "cpu"', 'device = "cpu"\nnum_blocks = 64')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "num_blocks"),
                     key="models.tiny.num_blocks", contains=("engine = \"continuous\"",))


def test_invalid_device_flag(project, capsys):
    code, err = bench(project, capsys, "run", "--device", "bogus")
    assert_bad_input(project, code, err, contains=("--device", "bogus", "cuda:N"))


@BOTH
def test_undefined_hardware(project, capsys, command):
    project.edit(project.models, 'hardware = "ci"', 'hardware = "dgx"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, 'hardware = "dgx"'),
                     key="models.tiny.hardware", contains=("dgx", "[hardware.dgx]"))


@BOTH
@pytest.mark.parametrize("name, shown", [("gp<u", "gp<u"), ("gpu\\n", "gpu\\n"), ("gpu box", "gpu box")])
def test_bad_hardware_name(project, capsys, command, name, shown):
    # shown in reports' "priced by" column: the characters of a model name only; a "\n" stays one error line
    project.edit(project.models, "[hardware.ci]", f'[hardware."{name}"]')
    project.edit(project.models, 'hardware = "ci"', f'hardware = "{name}"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "[hardware."),
                     key=f"hardware.{shown}", contains=("hardware name", "letters, digits"))
    assert err.count("\n") == 1, err


@BOTH
@pytest.mark.parametrize("name", ["tiny\\n", "ti<ny"])
def test_bad_model_name(project, capsys, command, name):
    project.edit(project.models, "[models.tiny]", f'[models."{name}"]')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, contains=("model name", "letters, digits"))
    assert err.count("\n") == 1, err


@BOTH
def test_api_key_in_models_toml_is_refused_and_not_echoed(project, capsys, command):
    project.edit(project.models, "batch_size = 4", 'batch_size = 4\napi_key = "sk-live-0123456789abcdef"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "api_key"),
                     key="models.tiny.api_key", contains=("environment variable",))
    assert "0123456789abcdef" not in err
    assert "sk-live" not in err


@BOTH
def test_models_written_as_array_of_tables(project, capsys, command):
    # [[models]] is a common TOML habit; it must be a clear error, not a crash
    project.models.write_text('[[models]]\nbackend = "transformers"\nmodel = "some-org/some-model"\n',
                              encoding="utf-8")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, contains=("models",))


def test_no_models_defined(project, capsys):
    project.models.write_text("[hardware.ci]\nusd_per_hour = 0.5\n", encoding="utf-8")
    code, err = bench(project, capsys, "run")
    assert_bad_input(project, code, err, file=project.models, contains=("no models",))


# ---------------------------------------------------------------- task files


@BOTH
def test_task_toml_syntax_error(project, capsys, command):
    project.edit(project.task, 'scorer = "label"', "scorer = label")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task,
                     contains=("TOML syntax error", f"line {line_of(project.task, 'scorer = label')}"))


@BOTH
def test_unknown_scorer(project, capsys, command):
    project.edit(project.task, 'scorer = "label"', 'scorer = "fuzzy"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, contains=("fuzzy", "exact, number, label"))
    # the line of [score] or of its scorer key
    assert any(f"{project.task}:{n}" in err
               for n in (line_of(project.task, "[score]"), line_of(project.task, "scorer ="))), err
    assert "'score" in err  # the key: score or score.scorer


@BOTH
def test_label_scorer_without_labels(project, capsys, command):
    project.edit(project.task, 'labels = ["billing", "refunds"]\n', "")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, contains=("labels",))
    assert f"{project.task}:{line_of(project.task, '[score]')}" in err, err
    assert "'score" in err


@BOTH
def test_missing_data_file(project, capsys, command):
    project.edit(project.task, "data/t.jsonl", "data/nope.jsonl")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "path ="),
                     key="data.path", contains=("nope.jsonl", "not found"))


@BOTH
def test_empty_data_file(project, capsys, command):
    project.data.write_text("\n", encoding="utf-8")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.data.resolve(), contains=("empty",))


@BOTH
def test_jsonl_broken_line(project, capsys, command):
    lines = project.data.read_text(encoding="utf-8").splitlines()
    lines[1] = '{"text": "I want my money back", "queue": "refunds"'  # unclosed object on line 2
    project.data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.data.resolve(), line=2, contains=("invalid JSON",))


@BOTH
def test_csv_row_with_missing_column(project, capsys, command):
    csv_file = project.tasks / "data" / "t.csv"
    csv_file.write_text("text,queue\nI was charged twice,billing\nI want my money back\nbad invoice,billing\n",
                        encoding="utf-8")
    project.edit(project.task, "data/t.jsonl", "data/t.csv")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=csv_file.resolve(), line=3, contains=("columns",))


@BOTH
def test_template_placeholder_not_in_data(project, capsys, command):
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "Ticket: {body}"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "user ="),
                     key="prompt.user", contains=("{body}",))


@BOTH
def test_unknown_key_in_task(project, capsys, command):
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "Ticket: {text}"\ntemperature = 0.2')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "temperature"),
                     key="prompt.temperature", contains=("unknown key",))


@BOTH
def test_both_path_and_hf(project, capsys, command):
    project.edit(project.task, 'path = "data/t.jsonl"', 'path = "data/t.jsonl"\nhf = "org/dataset"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "[data]"),
                     key="data", contains=("'path'", "'hf'"))


@BOTH
def test_fewshot_without_fewshot_path(project, capsys, command):
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "Ticket: {text}"\nfewshot = 2')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "fewshot ="),
                     key="prompt.fewshot", contains=("fewshot_path",))


@BOTH
def test_tasks_dir_without_task_files(project, capsys, command):
    project.task.unlink()
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.tasks, contains=("no task files",))


# ---------------------------------------------------------------- flags


def test_limit_zero(project, capsys):
    code, err = bench(project, capsys, "run", "--limit", "0")
    assert_bad_input(project, code, err, contains=("--limit 0", "at least 1"))


@BOTH
def test_unknown_model_selected(project, capsys, command):
    code, err = bench(project, capsys, command, "--models", "tiny,huge")
    assert_bad_input(project, code, err, contains=("--models", "'huge'", "known: tiny"))
    assert "'tiny'" not in err  # only the unknown name is reported


@BOTH
def test_unknown_task_selected(project, capsys, command):
    code, err = bench(project, capsys, command, "--tasks", "nope")
    assert_bad_input(project, code, err, contains=("--tasks", "'nope'", "known: t"))


# ---------------------------------------------------------------- key_line


KEY_LINE_TOML = """\
# a comment
[hardware.a10g]
usd_per_hour = 1.01

[models.small]
backend = "transformers"
dtype = "float16"
generation.max_new_tokens = 8

[score]
scorer = "json_fields"
fields = { vendor = "{vendor}", total = "{total}" }

[models."qwen2.5-0.5b"]
backend = "transformers"
dtype = "float8"
"""


# ---------------------------------------------------------------- found in review: each once crashed
# after the run folder existed, or echoed a secret


API_MODEL = """
[models.api]
backend = "openai"
model = "gpt-x"
base_url = "http://127.0.0.1:9/v1"
"""


@BOTH
def test_api_key_env_holding_a_key_is_refused_and_not_echoed(project, capsys, command):
    project.models.write_text(MODELS + API_MODEL + 'api_key_env = "gsk_live0123456789abcdefXYZ"\n', encoding="utf-8")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "api_key_env"),
                     key="models.api.api_key_env", contains=("NAME of an environment variable",))
    assert "0123456789abcdef" not in err


@BOTH
def test_base_url_with_a_bad_port(project, capsys, command):
    project.models.write_text(MODELS + API_MODEL.replace("127.0.0.1:9", "127.0.0.1:80a0"), encoding="utf-8")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, key="models.api.base_url", contains=("valid URL",))


@BOTH
def test_template_format_spec_that_the_data_cannot_fill(project, capsys, command):
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "Ticket: {text:d}"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, contains=("template cannot be filled",))


@BOTH
def test_label_target_not_among_the_labels(project, capsys, command):
    project.data.write_text(project.data.read_text() + json.dumps({"text": "hi", "queue": "shipping"}) + "\n")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, contains=("'shipping' is not one of the labels",))


@BOTH
def test_number_target_that_is_not_a_number(project, capsys, command):
    project.edit(project.task, 'scorer = "label"', 'scorer = "number"')
    project.edit(project.task, 'labels = ["billing", "refunds"]', '')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, contains=("is not a number",))


@BOTH
def test_data_that_is_not_utf8(project, capsys, command):
    project.data.write_bytes(project.data.read_bytes() + '{"text": "caf\u00e9", "queue": "billing"}\n'.encode("latin-1"))
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.data.resolve(), line=4, contains=("not UTF-8",))


@BOTH
def test_missing_id_in_a_later_row(project, capsys, command):
    rows = [dict(r, id=f"t{i}") for i, r in enumerate(ROWS)] + [{"text": "x", "queue": "billing"}]
    project.data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    project.edit(project.task, 'path = "data/t.jsonl"', 'path = "data/t.jsonl"\nid = "id"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, contains=("row 4 has no value in id column 'id'",))


@BOTH
def test_empty_selection(project, capsys, command):
    code, err = bench(project, capsys, command, "--tasks", " , ")
    assert_bad_input(project, code, err, contains=("--tasks", "names no task"))


def test_csv_with_a_byte_order_mark_loads(project, capsys):
    csv_file = project.tasks / "data" / "t.csv"
    csv_file.write_text("\ufefftext,queue,id\nI was charged twice,billing,a\nrefund me,refunds,b\n", encoding="utf-8")
    project.edit(project.task, 'path = "data/t.jsonl"', 'path = "data/t.csv"\nid = "id"')
    code, err = bench(project, capsys, "validate")
    assert code == 0, err


def test_demo_flag_refuses_model_options(capsys):
    assert main(["--demo", "--models", "x"]) == 2
    assert "--demo builds its own two models" in capsys.readouterr().err
    assert main(["--demo", "--config", "models.toml"]) == 2  # given, even by the default's name
    assert "--demo builds its own two models" in capsys.readouterr().err


def test_key_line_table_header():
    assert key_line(KEY_LINE_TOML, ("models", "small")) == 5
    assert key_line(KEY_LINE_TOML, ("hardware", "a10g")) == 2
    assert key_line('x = 1\n[hardware."gpu\\n"]\n', ("hardware", "gpu\n")) == 2  # escapes decoded


def test_key_line_key_in_table():
    assert key_line(KEY_LINE_TOML, ("models", "small", "dtype")) == 7
    assert key_line(KEY_LINE_TOML, ("hardware", "a10g", "usd_per_hour")) == 3


def test_key_line_dotted_key():
    assert key_line(KEY_LINE_TOML, ("models", "small", "generation", "max_new_tokens")) == 8


def test_key_line_missing_key_falls_back_to_its_table():
    assert key_line(KEY_LINE_TOML, ("models", "small", "batch_size")) == 5
    assert key_line(KEY_LINE_TOML, ("nothing", "here")) is None


def test_key_line_inline_table_key():
    assert key_line(KEY_LINE_TOML, ("score", "fields", "vendor")) == 12
    assert key_line(KEY_LINE_TOML, ("score", "scorer")) == 11


def test_key_line_quoted_table_name_with_dots():
    # model names may contain '.', which TOML needs quoted: [models."qwen2.5-0.5b"]
    assert key_line(KEY_LINE_TOML, ("models", "qwen2.5-0.5b", "dtype")) == 16


# ---------------------------------------------------------------- resuming a run folder, the results folder


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def stopped_run(project, capsys, monkeypatch) -> Path:
    """A real run folder (its only model is not cached, so nothing loads), with two records, left
    as a crash would leave it: not finished. A new run where nothing can run makes no folder, so the
    up-front availability check is bypassed here: the model is then skipped as its cells start."""
    import bench.run as bench_run

    with monkeypatch.context() as m:
        m.setattr(bench_run, "blockers", lambda *a, **k: {})
        assert bench(project, capsys, "run")[0] == 4
    (folder,) = project.out.iterdir()
    man = json.loads((folder / "manifest.json").read_text())
    man["finished_utc"] = None
    (folder / "manifest.json").write_text(json.dumps(man))
    rec = {"run_id": folder.name, "model": "tiny", "task": "t", "repeat": 0, "output": "billing", "score": 1.0,
           "error": None}
    (folder / "records.jsonl").write_text("".join(json.dumps({**rec, "example_id": i}) + "\n" for i in ("0", "1")))
    return folder


def assert_refused(err: str, code: int, folder: Path, before: dict, *contains: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for text in contains:
        assert text in err, err
    assert snapshot(folder) == before, "the run folder was changed"


def resume(project: Project, capsys, folder: Path, *extra: str) -> tuple[int, str]:
    code = main(["--resume", str(folder), *extra])
    return code, capsys.readouterr().err


def test_resume_of_a_folder_that_is_not_a_run(project, capsys):
    before = snapshot(project.tasks)
    code, err = resume(project, capsys, project.tasks)
    assert_refused(err, code, project.tasks, before, str(project.tasks), "not a run folder")


def test_resume_of_a_missing_folder(project, capsys):
    code, err = resume(project, capsys, project.root / "results" / "nope")
    assert code == 2 and "no such folder" in err and "Traceback" not in err, err


def test_resume_with_a_corrupted_manifest(project, capsys, stopped_run):
    (stopped_run / "manifest.json").write_text('{"run_id": "x",\n  "options": {oops}}')
    before = snapshot(stopped_run)
    code, err = resume(project, capsys, stopped_run)
    assert_refused(err, code, stopped_run, before, "manifest.json:2", "corrupted manifest")


def test_resume_with_garbage_in_the_middle_of_the_records(project, capsys, stopped_run):
    path = stopped_run / "records.jsonl"
    first, second = path.read_text().splitlines()
    path.write_text(first + "\n\x00\x00garbage{\n" + second + "\n")
    before = snapshot(stopped_run)
    code, err = resume(project, capsys, stopped_run)
    assert_refused(err, code, stopped_run, before, f"{path}:2", "corrupted record")


def test_resume_after_the_prompt_changed(project, capsys, stopped_run):
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "Route this ticket: {text}"')
    before = snapshot(stopped_run)
    code, err = resume(project, capsys, stopped_run)
    assert_refused(err, code, stopped_run, before, "configuration changed", "task t: task file changed",
                   "task t: rendered prompts changed", "--force")


def test_resume_after_the_data_changed(project, capsys, stopped_run):
    project.data.write_text(project.data.read_text().replace("twice", "three times"))
    before = snapshot(stopped_run)
    code, err = resume(project, capsys, stopped_run)
    assert_refused(err, code, stopped_run, before, "task t: data changed")


def test_resume_after_a_model_setting_changed(project, capsys, stopped_run):
    project.edit(project.models, "batch_size = 4", "batch_size = 8")
    before = snapshot(stopped_run)
    code, err = resume(project, capsys, stopped_run)
    assert_refused(err, code, stopped_run, before, "model tiny: batch_size 4 -> 8")


def test_resume_with_a_different_limit(project, capsys, stopped_run):
    before = snapshot(stopped_run)
    code, err = resume(project, capsys, stopped_run, "--limit", "2")
    assert_refused(err, code, stopped_run, before, "--limit: None -> 2")


def test_resume_of_a_run_another_process_is_writing(project, capsys, stopped_run):
    import os

    from bench.runfolder.lock import RunLock

    with RunLock(stopped_run).acquire():  # this very process: alive
        before = snapshot(stopped_run)
        code, err = resume(project, capsys, stopped_run)
        assert_refused(err, code, stopped_run, before, f"being written by pid {os.getpid()}")


def test_force_without_resume(project, capsys):
    code, err = bench(project, capsys, "run", "--force")
    assert_bad_input(project, code, err, contains=("--force only applies with --resume",))


def test_results_folder_that_is_not_writable(project, capsys):
    (project.root / "afile").write_text("not a folder")
    code = main(["run", "--config", str(project.models), "--tasks-dir", str(project.tasks),
                 "--out", str(project.root / "afile" / "results")])
    err = capsys.readouterr().err
    assert_bad_input(project, code, err, contains=("afile", "not writable", "--out"))


def test_resume_with_force_goes_on_and_says_what_changed(project, capsys, stopped_run):
    project.edit(project.models, "batch_size = 4", "batch_size = 8")
    code, err = resume(project, capsys, stopped_run, "--force")
    assert code == 4, err  # it ran: its only model cannot load here
    assert "resuming despite a change (--force): model tiny: batch_size 4 -> 8" in err
    man = json.loads((stopped_run / "manifest.json").read_text())
    assert man["finished_utc"] and man["resumes"][-1]["forced_changes"] == ["model tiny: batch_size 4 -> 8"]
    assert len((stopped_run / "records.jsonl").read_text().splitlines()) == 2  # kept, not run again


def test_a_new_run_names_an_unfinished_run_with_the_same_configuration(project, capsys, stopped_run, monkeypatch):
    import bench.run as bench_run

    monkeypatch.setattr(bench_run, "blockers", lambda *a, **k: {})  # the new run goes as far as its cells
    code, err = bench(project, capsys, "run")
    assert code == 4, err
    assert f"note: {stopped_run} is an unfinished run with this configuration; to continue it instead: " \
           f"python -m bench --resume {stopped_run}" in err
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "Route: {text}"')
    code, err = bench(project, capsys, "run")
    assert "unfinished run" not in err  # another configuration: nothing to continue


# ---------------------------------------------------------------- issue 11: validation gaps (each once exit 0
# or a traceback)


def one_line_error(err: str) -> None:
    assert err.count("\n") == 1, err


@BOTH
@pytest.mark.parametrize("value", ["100000000000", "131073"])
def test_max_new_tokens_above_the_static_cap(project, capsys, command, value):
    project.edit(project.task, "[score]", f"[generation]\nmax_new_tokens = {value}\n\n[score]")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "max_new_tokens"),
                     key="generation.max_new_tokens", contains=("131072",))
    one_line_error(err)


@BOTH
def test_api_max_tokens_above_the_static_cap(project, capsys, command):
    project.models.write_text(MODELS + API_MODEL + "max_tokens = 1000000\n", encoding="utf-8")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "max_tokens"),
                     key="models.api.max_tokens", contains=("131072",))


def write_local_model(project: Project, context: int | None, key: str = "max_position_embeddings") -> Path:
    """A local model folder holding only its config.json: enough for the checks before loading."""
    folder = project.root / "my-model"
    folder.mkdir()
    config = {"model_type": "llama", **({key: context} if context else {})}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    project.edit(project.models, 'model = "some-org/some-model"', 'model = "my-model"')
    return folder


@BOTH
@pytest.mark.parametrize("key", ["max_position_embeddings", "n_positions"])
def test_max_new_tokens_beyond_a_local_models_context_length(project, capsys, command, key):
    folder = write_local_model(project, 512, key)
    project.edit(project.task, "[score]", "[generation]\nmax_new_tokens = 600\n\n[score]")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "max_new_tokens"),
                     key="generation.max_new_tokens",
                     contains=("'tiny'", "512 tokens", key, str(folder / "config.json")))
    one_line_error(err)


def test_max_new_tokens_within_the_context_length_is_fine(project, capsys):
    write_local_model(project, 4096)
    project.edit(project.task, "[score]", "[generation]\nmax_new_tokens = 600\n\n[score]")
    code, err = bench(project, capsys, "validate")
    assert code == 0, err


def test_a_model_config_without_a_context_length_is_not_checked(project, capsys):
    write_local_model(project, None)
    project.edit(project.task, "[score]", "[generation]\nmax_new_tokens = 60000\n\n[score]")
    assert bench(project, capsys, "validate")[0] == 0


@BOTH
@pytest.mark.parametrize("template, shown", [
    ("{text.__class__.__mro__}", "{text.__class__.__mro__}"),
    ("{text.upper}", "{text.upper}"),
    ("{0}", "{0}"),
    ("{}", "{}"),
    ("{text!r}", "{text!r}"),
    ("{text:{text.__class__}}", "{text.__class__}"),  # a field nested in a format spec
])
def test_template_with_attribute_access_or_positional_fields(project, capsys, command, template, shown):
    project.edit(project.task, 'user = "Ticket: {text}"', f'user = "Ticket: {template}"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "user ="),
                     key="prompt.user", contains=(shown,))
    one_line_error(err)


@BOTH
@pytest.mark.parametrize("old, new, key", [
    ('system = "You route support tickets."', 'system = "You route {queue.__doc__}"', "prompt.system"),
    ('target = "{queue}"', 'target = "{queue.lower}"', "score.target"),
])
def test_every_template_is_checked(project, capsys, command, old, new, key):
    project.edit(project.task, old, new)
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, new.split(" =")[0] + " ="),
                     key=key, contains=(".",))


@BOTH
def test_template_indexing_into_text(project, capsys, command):
    # {text[0]} is the first character of every ticket: index access is for list and table fields only
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "Ticket: {text[0]}"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "user ="),
                     key="prompt.user", contains=("{text[0]}", "not a list"))
    one_line_error(err)


def test_template_indexing_into_a_list_or_table_field_is_fine(project, capsys):
    rows = [dict(r, tags=["a", "b"], meta={"lang": "en"}) for r in ROWS]
    project.data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "Ticket ({tags[1]}, {meta[lang]}): {text:>5}"')
    code, err = bench(project, capsys, "validate")
    assert code == 0, err


@BOTH
@pytest.mark.parametrize("where_, value", [("hardware", '"2026-13-45"'), ("api", '"2026-02-30"'),
                                           ("api", '"yesterday"')])
def test_prices_as_of_that_is_not_a_date(project, capsys, command, where_, value):
    if where_ == "hardware":
        project.edit(project.models, "usd_per_hour = 0.5", f"usd_per_hour = 0.5\nprices_as_of = {value}")
        key = "hardware.ci.prices_as_of"
    else:
        project.models.write_text(MODELS + API_MODEL + f"usd_per_mtok_in = 1.0\nprices_as_of = {value}\n",
                                  encoding="utf-8")
        key = "models.api.prices_as_of"
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "prices_as_of"),
                     key=key, contains=(value.strip('"'), "YYYY-MM-DD"))
    one_line_error(err)


def test_prices_as_of_as_a_toml_date_is_accepted(project, capsys):
    project.models.write_text(MODELS + API_MODEL + "usd_per_mtok_in = 1.0\nprices_as_of = 2026-11-01\n",
                              encoding="utf-8")
    code, err = bench(project, capsys, "validate")
    assert code == 0, err
    from bench.config import load_models

    assert load_models(project.models).models["api"].prices_as_of == "2026-11-01"


@BOTH
@pytest.mark.parametrize("key, value", [("usd_per_mtok_in", "inf"), ("usd_per_mtok_out", "nan"),
                                        ("usd_per_mtok_cached_in", "+inf")])
def test_prices_that_are_not_finite(project, capsys, command, key, value):
    project.models.write_text(MODELS + API_MODEL + f'{key} = {value}\nprices_as_of = "2026-11-01"\n',
                              encoding="utf-8")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, key),
                     key=f"models.api.{key}", contains=("finite",))


@BOTH
def test_usd_per_hour_that_is_not_finite(project, capsys, command):
    project.edit(project.models, "usd_per_hour = 0.5", "usd_per_hour = inf")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "usd_per_hour"),
                     key="hardware.ci.usd_per_hour", contains=("finite",))


@BOTH
@pytest.mark.parametrize("labels, said", [('["billing", "refunds", "billing"]', "'billing' is listed twice"),
                                          ('["billing", "refunds", "Refunds"]', "'refunds' and 'Refunds'"),
                                          ('["billing", "refunds", "billing."]', "'billing' and 'billing.'")])
def test_duplicate_labels(project, capsys, command, labels, said):
    project.edit(project.task, 'labels = ["billing", "refunds"]', f"labels = {labels}")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, "labels ="),
                     key="score.labels", contains=(said,))


@BOTH
def test_local_model_that_is_a_file(project, capsys, command):
    (project.root / "weights.safetensors").write_bytes(b"\0" * 16)
    project.edit(project.models, 'model = "some-org/some-model"', 'model = "weights.safetensors"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "model ="),
                     key="models.tiny.model", contains=("is a file", "folder"))
    assert "Repo id" not in err


def test_device_flag_without_that_gpu(project, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    code, err = bench(project, capsys, "run", "--device", "cuda:7")
    assert_bad_input(project, code, err, contains=("--device cuda:7: this machine has no CUDA GPU",))
    one_line_error(err)


@BOTH
def test_device_in_models_toml_without_that_gpu(project, capsys, command):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    project.edit(project.models, 'device = "cpu"', 'device = "cuda:7"')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "device ="),
                     key="models.tiny.device", contains=("cuda:7", "no CUDA GPU"))


def test_device_flag_overrides_the_models_device(project, capsys):
    # a config written for a GPU box runs on a laptop with --device cpu
    pytest.importorskip("torch")
    project.edit(project.models, 'device = "cpu"', 'device = "cuda:7"')
    code, err = bench(project, capsys, "validate")
    assert code == 2  # validate has no --device: the model's own device counts
    code = main(["run", "--config", str(project.models), "--tasks-dir", str(project.tasks), "--out",
                 str(project.out), "--device", "cpu"])
    assert code == 4, capsys.readouterr().err  # it ran (its model is not cached here)


@BOTH
def test_temperature_of_the_wrong_type_is_one_line_with_the_users_key(project, capsys, command):
    project.models.write_text(MODELS + API_MODEL + 'temperature = "hot"\n', encoding="utf-8")
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "temperature"),
                     key="models.api.temperature", contains=("number", "'default'", "'hot'"))
    one_line_error(err)
    assert "literal" not in err and "float" not in err


@BOTH
@pytest.mark.parametrize("name", ["..", "."])
def test_a_model_name_made_of_dots(project, capsys, command, name):
    project.edit(project.models, "[models.tiny]", f'[models."{name}"]')
    code, err = bench(project, capsys, command)
    assert_bad_input(project, code, err, file=project.models, contains=("only dots",))


def test_resume_when_records_is_a_folder(project, capsys, stopped_run):
    (stopped_run / "records.jsonl").unlink()
    (stopped_run / "records.jsonl").mkdir()
    before = snapshot(stopped_run)
    code, err = resume(project, capsys, stopped_run)
    assert_refused(err, code, stopped_run, before, "records.jsonl", "is a folder")


def test_resume_of_a_file(project, capsys):
    code, err = resume(project, capsys, project.task)
    assert code == 2 and "Traceback" not in err, err
    assert f"--resume {project.task}: this is a file, not a run folder" in err
    assert "no such folder" not in err


@pytest.mark.parametrize("argv, said", [(["reprot", "x"], "invalid command 'reprot'"),
                                        (["vaildate"], "did you mean 'validate'?")])
def test_an_unknown_command(capsys, argv, said):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and said in err, err
    assert "run, demo, list, validate, task, report, recommend" in err
    one_line_error(err)


def test_options_alone_still_run(project, capsys):
    code = main(["--config", str(project.models), "--tasks-dir", str(project.tasks), "--limit", "0"])
    assert code == 2 and "--limit 0" in capsys.readouterr().err  # reached the run's own checks
