"""Task data: loading JSONL/CSV/Parquet and Hugging Face datasets, field mapping, stable ids,
--limit, the data hash, prompt rendering and few-shot demonstrations."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import pytest

from bench.config import placeholders, render_value
from bench.errors import InputError
from bench.prepare import tasks
from bench.prepare.taskfiles import load_task, load_tasks

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

LABEL_TASK = """\
[data]
path = "{path}"
{data_extra}

[prompt]
system = "You route tickets about {{product}}."
user = "Ticket: {{text}}"
{prompt_extra}

[score]
scorer = "label"
target = "{{queue}}"
labels = ["billing", "refunds", "shipping"]
"""


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def make_task(tmp_path: Path, data_file: str, *, data_extra: str = "", prompt_extra: str = "",
              text: str | None = None, name: str = "t"):
    toml = text if text is not None else LABEL_TASK.format(path=data_file, data_extra=data_extra,
                                                           prompt_extra=prompt_extra)
    path = tmp_path / f"{name}.toml"
    path.write_text(toml, encoding="utf-8")
    return load_task(path)


def rows(n: int, start: int = 0) -> list[dict]:
    queues = ["billing", "refunds", "shipping"]
    return [{"text": f"ticket number {i}", "queue": queues[i % 3], "product": "Widget", "n": i}
            for i in range(start, start + n)]


# ---------------------------------------------------------------- formats


def test_load_jsonl(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(4))
    data = tasks.load(make_task(tmp_path, "d.jsonl"))
    assert [e.fields["text"] for e in data.examples] == [f"ticket number {i}" for i in range(4)]
    assert data.examples[2].fields["n"] == 2  # JSON types kept
    assert data.source["location"] == str((tmp_path / "d.jsonl").resolve())


def test_load_jsonl_skips_blank_lines(tmp_path):
    (tmp_path / "d.jsonl").write_text(json.dumps(rows(1)[0]) + "\n\n   \n" + json.dumps(rows(2)[1]) + "\n")
    assert len(tasks.load(make_task(tmp_path, "d.jsonl")).examples) == 2


def test_load_csv(tmp_path):
    write_csv(tmp_path / "d.csv", rows(3))
    data = tasks.load(make_task(tmp_path, "d.csv"))
    assert [e.fields["queue"] for e in data.examples] == ["billing", "refunds", "shipping"]
    assert data.examples[1].fields["n"] == "1"  # CSV cells are text


def test_load_parquet(tmp_path):
    write_parquet(tmp_path / "d.parquet", rows(5))
    data = tasks.load(make_task(tmp_path, "d.parquet"))
    assert [e.fields["n"] for e in data.examples] == [0, 1, 2, 3, 4]
    assert data.examples[4].fields["text"] == "ticket number 4"


def test_unsupported_format(tmp_path):
    (tmp_path / "d.txt").write_text("hello\n")
    with pytest.raises(InputError, match="unsupported data format"):
        tasks.load(make_task(tmp_path, "d.txt"))


def test_jsonl_line_that_is_not_an_object(tmp_path):
    (tmp_path / "d.jsonl").write_text(json.dumps(rows(1)[0]) + "\n[1, 2]\n")
    with pytest.raises(InputError, match=r"d\.jsonl:2: .*JSON object"):
        tasks.load(make_task(tmp_path, "d.jsonl"))


def test_damaged_parquet(tmp_path):
    (tmp_path / "d.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="cannot read Parquet"):
        tasks.load(make_task(tmp_path, "d.parquet"))


# ---------------------------------------------------------------- field mapping


def test_field_mapping(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"body": "parcel lost", "team": "shipping", "product": "Widget"}])
    task = make_task(tmp_path, "d.jsonl", data_extra='fields = { text = "body", queue = "team" }')
    data = tasks.load(task)
    ex = data.examples[0]
    assert ex.fields["text"] == "parcel lost" and ex.fields["queue"] == "shipping"
    assert ex.fields["body"] == "parcel lost"  # the original columns stay
    assert tasks.render(data, ex)[-1]["content"] == "Ticket: parcel lost"
    assert tasks.target(data, ex) == "shipping"


def test_field_mapping_to_missing_column(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(2))
    task = make_task(tmp_path, "d.jsonl", data_extra='fields = { text = "body" }')
    with pytest.raises(InputError) as e:
        tasks.load(task)
    assert "data.fields.text" in str(e.value) and "'body'" in str(e.value)


# ---------------------------------------------------------------- ids


def test_content_hash_ids_are_stable_across_loads(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(6))
    task = make_task(tmp_path, "d.jsonl")
    first = [e.id for e in tasks.load(task).examples]
    second = [e.id for e in tasks.load(make_task(tmp_path, "d.jsonl")).examples]
    assert first == second
    assert len(set(first)) == 6


def test_identical_rows_get_distinct_ids(tmp_path):
    row = rows(1)[0]
    write_jsonl(tmp_path / "d.jsonl", [row, row, row])
    ids = [e.id for e in tasks.load(make_task(tmp_path, "d.jsonl")).examples]
    assert len(set(ids)) == 3


def test_ids_do_not_change_when_a_row_is_appended(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(4) + [rows(1)[0]])  # with a duplicate row, too
    before = [e.id for e in tasks.load(make_task(tmp_path, "d.jsonl")).examples]
    write_jsonl(tmp_path / "d.jsonl", rows(4) + [rows(1)[0]] + rows(1, start=9))
    after = [e.id for e in tasks.load(make_task(tmp_path, "d.jsonl")).examples]
    assert after[:5] == before
    assert after[5] not in before


def test_ids_follow_content_not_position(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(3))
    before = {e.fields["n"]: e.id for e in tasks.load(make_task(tmp_path, "d.jsonl")).examples}
    write_jsonl(tmp_path / "d.jsonl", list(reversed(rows(3))))
    after = {e.fields["n"]: e.id for e in tasks.load(make_task(tmp_path, "d.jsonl")).examples}
    assert before == after


def test_explicit_id_column(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [dict(r, key=f"k{r['n']}") for r in rows(3)])
    data = tasks.load(make_task(tmp_path, "d.jsonl", data_extra='id = "key"'))
    assert [e.id for e in data.examples] == ["k0", "k1", "k2"]


def test_duplicate_ids_are_rejected(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [dict(r, key="same" if r["n"] else "k0") for r in rows(3)])
    with pytest.raises(InputError) as e:
        tasks.load(make_task(tmp_path, "d.jsonl", data_extra='id = "key"'))
    assert "duplicate id 'same'" in str(e.value) and "row 3" in str(e.value)


@pytest.mark.parametrize("blank", ["", "  ", None])
def test_an_empty_or_blank_id_is_rejected(tmp_path, blank):
    write_jsonl(tmp_path / "d.jsonl", [dict(r, key=blank if r["n"] == 1 else f"k{r['n']}") for r in rows(3)])
    with pytest.raises(InputError, match="row 2 has no value in id column 'key'"):
        tasks.load(make_task(tmp_path, "d.jsonl", data_extra='id = "key"'))


def test_ids_that_look_like_numbers_stay_text(tmp_path):
    write_csv(tmp_path / "d.csv", [dict(r, key=f"{r['n']:03d}") for r in rows(3)])
    data = tasks.load(make_task(tmp_path, "d.csv", data_extra='id = "key"'))
    assert [e.id for e in data.examples] == ["000", "001", "002"]


def test_input_fields_are_what_the_prompt_shows_in_order(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [dict(r, tags=["a", "b"]) for r in rows(2)])
    text = LABEL_TASK.format(path="d.jsonl", data_extra="", prompt_extra="")
    text = text.replace('user = "Ticket:', 'user = "Tags {tags}, {tags[0]}; Ticket:', 1)
    (tmp_path / "t.toml").write_text(text, encoding="utf-8")
    data = tasks.load(load_task(tmp_path / "t.toml"))
    fields = tasks.input_fields(data, data.examples[1])
    assert list(fields) == ["product", "tags", "text"] and fields["tags"] == '["a", "b"]'
    assert fields["text"] == "ticket number 1" and "queue" not in fields  # the target is not an input


def test_id_column_not_in_data(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(2))
    with pytest.raises(InputError, match="id column 'key'"):
        tasks.load(make_task(tmp_path, "d.jsonl", data_extra='id = "key"'))


# ---------------------------------------------------------------- limit and hash


def test_limit_keeps_the_first_n_in_file_order(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(10))
    data = tasks.load(make_task(tmp_path, "d.jsonl"), limit=3)
    assert [e.fields["n"] for e in data.examples] == [0, 1, 2]
    assert len(tasks.load(make_task(tmp_path, "d.jsonl"), limit=50).examples) == 10


def test_data_hash_covers_the_data_not_the_limit(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(6))
    task = make_task(tmp_path, "d.jsonl")
    full = tasks.load(task).data_sha256
    assert len(full) == 64
    assert tasks.load(task, limit=2).data_sha256 == full
    assert tasks.load(task).data_sha256 == full
    changed = rows(6)
    changed[5]["queue"] = "billing"  # a row beyond the limit changes too
    write_jsonl(tmp_path / "d.jsonl", changed)
    assert tasks.load(task, limit=2).data_sha256 != full


# ---------------------------------------------------------------- rendering


def test_render_system_and_user(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(2))
    data = tasks.load(make_task(tmp_path, "d.jsonl"))
    assert tasks.render(data, data.examples[1]) == [
        {"role": "system", "content": "You route tickets about Widget."},
        {"role": "user", "content": "Ticket: ticket number 1"},
    ]
    assert tasks.target(data, data.examples[1]) == "refunds"


def test_render_without_system(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(1))
    text = LABEL_TASK.format(path="d.jsonl", data_extra="", prompt_extra="").replace(
        'system = "You route tickets about {product}."\n', "")
    data = tasks.load(make_task(tmp_path, "d.jsonl", text=text))
    assert tasks.render(data, data.examples[0]) == [{"role": "user", "content": "Ticket: ticket number 0"}]


def test_literal_braces_in_template(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(1))
    text = LABEL_TASK.format(path="d.jsonl", data_extra="", prompt_extra="").replace(
        'user = "Ticket: {text}"', 'user = "Ticket: {text} -> reply {{\\"queue\\": ...}}"')
    data = tasks.load(make_task(tmp_path, "d.jsonl", text=text))
    assert tasks.render(data, data.examples[0])[-1]["content"] == 'Ticket: ticket number 0 -> reply {"queue": ...}'


def fewshot_task(tmp_path: Path, seed: int, k: int = 3, name: str = "t"):
    write_jsonl(tmp_path / "d.jsonl", rows(4))
    write_jsonl(tmp_path / "pool.jsonl", rows(20, start=100))
    return make_task(tmp_path, "d.jsonl", data_extra='fewshot_path = "pool.jsonl"',
                     prompt_extra=f"fewshot = {k}\nfewshot_seed = {seed}", name=name)


def test_fewshot_demonstrations_are_user_assistant_pairs(tmp_path):
    data = tasks.load(fewshot_task(tmp_path, seed=1))
    assert len(data.fewshot) == 3
    pool_texts = {r["text"] for r in rows(20, start=100)}
    assert all(d.fields["text"] in pool_texts for d in data.fewshot)
    messages = tasks.render(data, data.examples[0])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant",
                                             "user", "assistant", "user"]
    for i, demo in enumerate(data.fewshot):
        assert messages[1 + 2 * i]["content"] == f"Ticket: {demo.fields['text']}"
        assert messages[2 + 2 * i]["content"] == demo.fields["queue"]
    assert messages[-1]["content"] == "Ticket: ticket number 0"


def test_fewshot_sampling_follows_the_seed(tmp_path):
    same_a = [d.id for d in tasks.load(fewshot_task(tmp_path, seed=5)).fewshot]
    same_b = [d.id for d in tasks.load(fewshot_task(tmp_path, seed=5, name="u")).fewshot]
    other = [d.id for d in tasks.load(fewshot_task(tmp_path, seed=6, name="v")).fewshot]
    assert same_a == same_b
    assert same_a != other


def test_fewshot_changes_the_data_hash(tmp_path):
    h5 = tasks.load(fewshot_task(tmp_path, seed=5)).data_sha256
    h6 = tasks.load(fewshot_task(tmp_path, seed=6, name="u")).data_sha256
    assert h5 != h6


def test_fewshot_asks_for_more_than_the_pool(tmp_path):
    with pytest.raises(InputError, match="asks for 30 demonstrations"):
        tasks.load(fewshot_task(tmp_path, seed=0, k=30))


JSON_TASK = """\
[data]
path = "{path}"
fewshot_path = "{path}"

[prompt]
user = "Invoice: {{text}}"
fewshot = 1

[score]
scorer = "json_fields"
fields = {{ vendor = "{{vendor}}", number = "{{number}}", total = "{{total}}", items = "{{items}}", date = "{{date}}", label = "total {{total}}" }}
"""


def test_json_fields_assistant_turn_keeps_types(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"text": "ACME, 3 items, 12.50", "vendor": "ACME", "number": "004913",
                                        "total": 12.5, "items": 3, "date": "2026-03-12"}])
    data = tasks.load(make_task(tmp_path, "d.jsonl", text=JSON_TASK.format(path="d.jsonl")))
    messages = tasks.render(data, data.examples[0])
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    obj = json.loads(messages[1]["content"])
    assert obj == {"vendor": "ACME", "number": "004913", "total": 12.5, "items": 3, "date": "2026-03-12",
                   "label": "total 12.5"}
    assert isinstance(obj["items"], int) and isinstance(obj["total"], float) and isinstance(obj["number"], str)


def test_json_fields_target_from_parquet_date_column(tmp_path):
    # Parquet date columns load as datetime.date; the reference answer must still be JSON
    write_parquet(tmp_path / "d.parquet", [{"text": "ACME invoice", "vendor": "ACME", "number": "7",
                                            "total": 1.5, "items": 1, "date": datetime.date(2026, 3, 12)}])
    data = tasks.load(make_task(tmp_path, "d.parquet", text=JSON_TASK.format(path="d.parquet")))
    assert json.loads(tasks.target(data, data.examples[0]))["date"] == "2026-03-12"


# ---------------------------------------------------------------- Hugging Face datasets


HF_TASK = """\
[data]
hf = "{hf}"
split = "test"
fields = {{ query = "text", intent = "category" }}

[prompt]
user = "Which intent? {{query}}"

[score]
scorer = "exact"
target = "{{intent}}"
"""


@pytest.fixture(scope="module")
def banking77() -> Path:
    folder = SHARED_DATA / "banking77"
    if not (folder / "test.csv").is_file():
        pytest.skip(f"shared dataset folder not found: {folder} (expected next to the repository)")
    pytest.importorskip("datasets", reason="the 'datasets' package is needed for Hub-style loading")
    return folder


def test_hf_dataset_folder(tmp_path, banking77):
    task = make_task(tmp_path, "", text=HF_TASK.format(hf=banking77))
    data = tasks.load(task, limit=5)
    assert len(data.examples) == 5
    first = data.examples[0]
    assert first.fields["query"] == "How do I locate my card?"
    assert first.fields["intent"] == "card_arrival"
    assert tasks.render(data, first) == [{"role": "user", "content": "Which intent? How do I locate my card?"}]
    assert data.source["hf"] == str(banking77) and data.source["split"] == "test"
    full = tasks.load(task)
    assert len(full.examples) == 3080
    assert full.data_sha256 == data.data_sha256  # the hash covers every row, not the first 5
    assert [e.id for e in full.examples[:5]] == [e.id for e in data.examples]
    assert len({e.id for e in full.examples}) == 3080


def test_hf_dataset_bad_split(tmp_path, banking77):
    task = make_task(tmp_path, "", text=HF_TASK.format(hf=banking77).replace('"test"', '"train"'))
    with pytest.raises(InputError) as e:
        tasks.load(task)
    assert "data.hf" in str(e.value) and "'train'" in str(e.value)


# ---------------------------------------------------------------- shipped tasks


def shipped():
    return {t.name: t for t in load_tasks(ROOT / "tasks")}


def test_shipped_tasks_load_and_render():
    found = {n: t for n, t in shipped().items() if t.spec.data.path}  # Hub tasks: tests/prepare/test_hub_tasks.py
    assert {"invoice_fields", "order_math", "ticket_routing"} <= set(found)
    for name, task in found.items():
        data = tasks.load(task)
        n_rows = sum(1 for line in (task.path.parent / task.spec.data.path).read_text().splitlines()
                     if line.strip())
        assert len(data.examples) == n_rows, name
        assert len({e.id for e in data.examples}) == n_rows, name
        for ex in data.examples:
            messages = tasks.render(data, ex)
            assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"
            assert len(messages) == 2 + 2 * task.spec.prompt.fewshot
            for field in placeholders(task.spec.prompt.user):
                assert "{" + field + "}" not in messages[-1]["content"], name
                assert str(ex.fields[field]) in messages[-1]["content"], name
    order = tasks.load(found["order_math"])
    assert len(order.fewshot) == 2
    assert all(e.id.startswith("omf-") for e in order.fewshot)


def test_shipped_references_score_full_marks():
    # each reference answer, given as the model output, is scored correct by the task's own scorer
    from bench.prepare.planning import plan

    for name, task in shipped().items():
        if not task.spec.data.path:
            continue
        data = tasks.load(task)
        p = plan(data)
        for ex in data.examples:
            ref = p.targets[ex.id]
            assert p.scorer(ref, ref, **p.inputs.get(ex.id, {})).value == 1.0, (name, ex.id, ref)


# ---------------------------------------------------------------- targets and scorer inputs


SCORE_TASK = """\
[data]
path = "d.jsonl"
{data_extra}

[prompt]
user = "{{q}}"

[score]
{score}
"""


def score_task(tmp_path: Path, rows_: list[dict], score: str, data_extra: str = "") -> tasks.TaskData:
    write_jsonl(tmp_path / "d.jsonl", rows_)
    return tasks.load(make_task(tmp_path, "d.jsonl", text=SCORE_TASK.format(score=score, data_extra=data_extra)))


def test_bare_list_and_dict_fields_render_as_json(tmp_path):
    spans = [{"type": "NAME", "text": "Zo\u00eb Kr\u00fcger"}]
    data = score_task(tmp_path, [{"q": "x", "spans": spans, "answers": {"text": ["a", "b"], "answer_start": [1, 5]}}],
                      'scorer = "span_f1"\ntarget = "{spans}"')
    ex = data.examples[0]
    assert tasks.target(data, ex) == '[{"type": "NAME", "text": "Zo\u00eb Kr\u00fcger"}]'  # not repr, not \\u escapes
    assert render_value("{answers[text]}", ex.fields) == '["a", "b"]'
    assert render_value("{answers}", ex.fields).startswith('{"text": ["a", "b"]')
    assert render_value("n = {spans}", ex.fields).startswith("n = [{'type'")  # not bare: plain format
    assert render_value("{q}", ex.fields) == "x"


def test_target_pattern_takes_the_reference_out_of_a_longer_field(tmp_path):
    data = score_task(tmp_path, [{"q": "x", "sol": "3 + 4 = <<3+4=7>>7 apples\n#### 1,007"}],
                      'scorer = "number"\ntarget = "{sol}"\ntarget_pattern = \'####\\s*([^\\n]+)\'')
    assert tasks.target(data, data.examples[0]) == "1,007"
    data = score_task(tmp_path, [{"q": "x", "sol": "no marker"}],
                      'scorer = "number"\ntarget = "{sol}"\ntarget_pattern = "####"')
    with pytest.raises(ValueError, match="does not match"):
        tasks.target(data, data.examples[0])


def test_score_inputs_for_choice_and_rouge(tmp_path):
    data = score_task(tmp_path, [{"q": "x", "a": "B", "opts": ["p", "q", "r", "s"]}],
                      'scorer = "choice"\ntarget = "{a}"\noptions = "{opts}"')
    assert tasks.score_inputs(data, data.examples[0]) == {"options": ["p", "q", "r", "s"]}
    data = score_task(tmp_path, [{"q": "x", "s": "Acme pays 5 EUR", "facts": ["Acme", "5 EUR"]}],
                      'scorer = "rouge_l"\ntarget = "{s}"\nfacts = "{facts}"')
    assert tasks.score_inputs(data, data.examples[0]) == {"facts": ["Acme", "5 EUR"]}


def test_headerless_csv_with_columns_and_a_list_field(tmp_path):
    (tmp_path / "d.csv").write_text('What is 2+2?,3,4,5,6,B\n"Pick, one",w,x,y,z,D\n', encoding="utf-8")
    text = SCORE_TASK.format(score='scorer = "choice"\ntarget = "{answer}"\noptions = "{choices}"',
                             data_extra='columns = ["q", "A", "B", "C", "D", "answer"]\n'
                                        'fields = { choices = ["A", "B", "C", "D"] }').replace("d.jsonl", "d.csv")
    data = tasks.load(make_task(tmp_path, "d.csv", text=text))
    assert [e.fields["q"] for e in data.examples] == ["What is 2+2?", "Pick, one"]  # no row lost to a header
    assert data.examples[1].fields["choices"] == ["w", "x", "y", "z"]
    assert tasks.target(data, data.examples[1]) == "D"


def test_columns_need_a_csv_file(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(2))
    with pytest.raises(InputError, match="'columns' names the columns of a CSV"):
        make_task(tmp_path, "d.jsonl", data_extra='columns = ["a"]')


def test_list_field_with_a_missing_column(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", rows(2))
    with pytest.raises(InputError, match="column 'B' is not in"):
        tasks.load(make_task(tmp_path, "d.jsonl", data_extra='fields = { pair = ["text", "B"] }'))
