"""Results traced to the user's rows (issue 20, item 7): example outputs with the input fields,
per-label accuracy and confusion matrices for label tasks, and where a candidate and a reference
disagree; every piece of run text escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.core.types import Record, SummaryRow
from bench.report import confusion, disagree, examples, labels, trace
from bench.report.runs import merge
from fakerun import api_model, local_model, make_run

LABELS = ["billing", "refunds", "shipping"]
LABEL_TASK = ('[data]\npath = "d.csv"\nid = "ticket_id"\n[prompt]\nuser = "{text}"\n[score]\nscorer = "label"\n'
              'target = "{queue}"\nlabels = ' + json.dumps(LABELS) + "\n")


def rec(model: str, ex: str, score: float, *, target: str = "billing", extracted: str | None = None,
        output: str | None = None, task: str = "t", repeat: int = 0, error: str | None = None) -> Record:
    got = extracted if extracted is not None else (target if score >= 1 else None)
    return Record("run", model, task, ex, repeat, output=output if output is not None else str(got or ""),
                  extracted=got, target=target, score=score, error=error)


def run_folder(tmp_path: Path, records: list[Record], *, task_text: str | None = LABEL_TASK,
               inputs: dict[str, dict] | None = None, name: str = "run") -> Path:
    """A constructed run (tests/report/fakerun.py) whose records, task text and inputs.jsonl are these."""
    cells = dict.fromkeys((r.model, r.task) for r in records)
    models = {m: (local_model() if i else api_model()) for i, m in enumerate(dict.fromkeys(r.model for r in records))}
    folder = make_run(tmp_path / name, models, {c: [1.0] for c in cells})
    man = json.loads((folder / "manifest.json").read_text())
    for entry in man["tasks"].values():
        if task_text is not None:
            entry["text"] = task_text
    (folder / "manifest.json").write_text(json.dumps(man))
    base = json.loads((folder / "records.jsonl").read_text().splitlines()[0])
    lines = [json.dumps({**base, **{k: v for k, v in r.to_json().items() if k not in ("run_id",)}}) for r in records]
    (folder / "records.jsonl").write_text("".join(line + "\n" for line in lines))
    if inputs is not None:
        (folder / "inputs.jsonl").write_text("".join(json.dumps({"task": "t", "example_id": i, "inputs": f}) + "\n"
                                                     for i, f in inputs.items()))
    return folder


# ---------------------------------------------------------------- where they disagree


def test_disagreements_pair_by_id_and_put_the_references_wins_first():
    records = [rec("cand", "007", 1), rec("ref", "007", 0),  # the candidate better
               rec("cand", "010", 0), rec("ref", "010", 1),  # the reference better
               rec("cand", "011", 1), rec("ref", "011", 1),  # the same
               rec("cand", "012", 0), rec("ref", "012", 1),
               rec("cand", "013", 1),  # the reference never answered it: not shared
               rec("cand", "011", 0, repeat=1), rec("ref", "014", 0),
               rec("cand", "010", 0, task="other"), rec("ref", "010", 0, task="other")]
    d = disagree.disagreements(records, "t", "cand", "ref", limit=10)
    assert (d.shared, d.reference_better, d.candidate_better, d.total) == (4, 2, 1, 3)
    assert [p.example_id for p in d.shown] == ["010", "012", "007"]
    assert d.shown[0].candidate.model == "cand" and d.shown[0].reference.model == "ref"
    limited = disagree.disagreements(records, "t", "cand", "ref", limit=1)
    assert [p.example_id for p in limited.shown] == ["010"] and limited.total == 3
    assert disagree.disagreements(records, "t", "cand", "ref", limit=0).shown == []
    with pytest.raises(ValueError, match="limit -1"):
        disagree.disagreements(records, "t", "cand", "ref", limit=-1)


def test_partial_scores_disagree_by_their_gap_and_equal_ones_do_not():
    records = [rec("c", "a", 0.5), rec("r", "a", 0.7), rec("c", "b", 0.0), rec("r", "b", 0.9),
               rec("c", "c", 0.25), rec("r", "c", 0.25), rec("c", "d", 1.0), rec("r", "d", 0.8)]
    d = disagree.disagreements(records, "t", "c", "r", 10)
    assert [p.example_id for p in d.shown] == ["b", "a", "d"] and d.total == 3


def test_no_shared_example_and_no_disagreement_are_said():
    apart = disagree.disagreements([rec("c", "a", 1), rec("r", "b", 0)], "t", "c", "r", 5)
    assert apart.shared == 0 and disagree.summary_line(apart) == "c and r answered no example in common."
    same = disagree.disagreements([rec("c", "a", 1), rec("r", "a", 1)], "t", "c", "r", 5)
    assert disagree.summary_line(same) == "c and r scored all 1 shared examples the same."


def row(model: str, task: str, accuracy: float, n: int = 10) -> SummaryRow:
    return SummaryRow(model=model, task=task, status="ok", n=n, accuracy=accuracy)


def test_the_disagreement_list_shows_the_total_the_shown_ones_and_escapes_every_text():
    hostile = "<script>alert(1)</script> | pipe"
    records = [rec("c", f"{i:03d}", 0, output=hostile) for i in range(5)] + [rec("r", f"{i:03d}", 1) for i in range(5)]
    inputs = {("t", f"{i:03d}"): {"text": f"ticket {i} {hostile}"} for i in range(5)}
    page = disagree.to_html(records, inputs, {"t": [("c", "r")]}, limit=2)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "c and r scored 5 of 5 shared examples differently: r better on 5, c better on 0; the first 2 below." in page
    assert page.count("<tr>") == 3 and "<td>000</td>" in page and "<td>002</td>" not in page
    assert "ticket 0 &lt;script&gt;" in page and "(nothing read) &#x27;&lt;script&gt;" in page
    md = disagree.to_markdown(records, inputs, {"t": [("c", "r")]}, limit=2)
    assert "| t | c | r | 5 | 5 | 5 | 0 | 2 |" in md and "### Pair 1: 2 of the 5 examples scored differently" in md
    table = [line for line in md if line.startswith("| 00")]
    assert len(table) == 2 and all("<script>" not in line and "\\| pipe" in line for line in table)
    evil = [rec("# evil", "a", 0), rec("r", "a", 1)]  # a name never starts a line: no heading, no list
    lines = disagree.to_markdown(evil, {}, {"t": [("# evil", "r")]})
    assert all(line.startswith("|") for line in lines if "evil" in line)
    assert disagree.to_html(records, inputs, {}) == "" and disagree.to_markdown(records, inputs, {}) == []


# ---------------------------------------------------------------- per label


def test_label_tasks_are_read_from_the_task_text_in_the_manifest():
    choice = '[score]\nscorer = "choice"\ntarget = "{answer}"\n'
    manifests = [{"tasks": {"lab": {"text": LABEL_TASK}, "mc": {"text": choice}, "ex": {"text": '[score]\nscorer = "exact"\n'},
                            "broken": {"text": "[score\n"}, "old": {}}}]
    assert labels.label_tasks(manifests) == {"lab": LABELS, "mc": ["A", "B", "C", "D"]}


def test_per_label_accuracy_and_most_common_wrong_answer():
    records = ([rec("m", f"b{i}", 1, target="billing") for i in range(3)]
               + [rec("m", "b3", 0, target="Billing.", extracted="refunds"),
                  rec("m", "b4", 0, target="billing", extracted="refunds"),
                  rec("m", "b5", 0, target="billing", extracted=None, output="no idea"),
                  rec("m", "r0", 0, target="refunds", extracted="refunds", output="Queue: refunds"),  # strict: not a label
                  rec("m", "r1", 0, target="refunds", extracted=None, error="TimeoutError: slow"),
                  rec("m", "s0", 1, target="shipping"),
                  rec("m", "s1", 0, target="shipping", repeat=1), rec("other", "s0", 0, target="shipping")])
    rows = labels.per_label(records, "m", "t", LABELS)
    assert [(r.label, r.n, r.accuracy, r.wrong, r.wrong_n) for r in rows] == [
        ("billing", 6, 0.5, "refunds", 2), ("refunds", 2, 0.0, labels.NONE, 2), ("shipping", 1, 1.0, None, 0)]
    cells = labels.table_rows(records, "t", LABELS, ["m"])
    assert cells[0] == ["m", "billing", "6", "50.0", "refunds (2 of 6)"] and cells[2][3:] == ["100.0", "-"]
    assert cells[1][3] == "0.0"


def test_a_confusion_matrix_names_the_most_frequent_labels_and_counts_the_rest_as_other():
    names = ["other"] + [f"lab{i}" for i in range(12)]  # a user's label called "other" stays a label
    records = [rec("m", f"o{i}", 1, target="other") for i in range(5)]
    records += [rec("m", f"x{i}-{k}", 1 if k else 0, target=f"lab{i}", extracted=None if k else "other")
                for i in range(12) for k in range(12 - i)]
    shown = labels.shown_labels(records, "t", names, top=4)
    assert shown == ["lab0", "lab1", "lab2", "lab3"]  # 12, 11, 10, 9 examples; "other" has 5
    conf = labels.confusion(records, "m", "t", names, shown)
    assert conf.rows == shown + [labels.OTHER] and conf.cols == shown + [labels.OTHER]
    assert sum(map(sum, conf.counts)) == conf.n == len(records)
    assert conf.counts[0] == [11, 0, 0, 0, 1]  # lab0: 11 right, once answered "other" (a label not shown)
    assert confusion.most_confused(conf) == ("lab0", labels.OTHER, 1)
    assert labels.confusion(records[:5], "m", "t", names, ["other"]).cols == ["other"]  # no OTHER, no NONE column


def test_a_model_right_every_time_has_no_mistake_in_its_title_and_no_none_column():
    records = [rec("m", "only", 1, target="refunds")]  # one example, 100 %
    conf = labels.confusion(records, "m", "t", LABELS, labels.shown_labels(records, "t", LABELS))
    assert (conf.rows, conf.cols, conf.counts) == (["refunds"], ["refunds"], [[1]])
    assert confusion.most_confused(conf) is None and confusion.title("t", "m", conf) == "t, m: 100% right (1 of 1)"
    zero = labels.confusion([rec("m", "only", 0, target="refunds")], "m", "t", LABELS, ["refunds"])
    assert zero.cols == ["refunds", labels.NONE] and zero.counts == [[0, 1]]
    assert confusion.title("t", "m", zero).endswith("most common mistake: refunds answered as (no label) (once)")


def test_axis_names_keep_start_and_end_and_stay_distinct():
    names = [f"card_payment_not_recognised_{i}" for i in (1, 2)] + ["a" * 30 + "x", "a" * 30 + "x", "$short"]
    shown = confusion.short_names(names, 24)
    assert shown[:2] == ["card_payme...ecognised_1", "card_payme...ecognised_2"]
    assert shown[2] == "aaaaaaaaaa...aaaaaaaaaax" and shown[3] == shown[2] + " #2" and len(set(shown)) == 5
    assert shown[4] == r"\$short"  # matplotlib's mathtext stays off


def test_one_confusion_figure_per_model_and_distinct_files_for_names_alike(tmp_path):
    records = [rec("a.b", "e1", 1), rec("a.b", "e2", 0, target="refunds", extracted="billing"),
               rec("a_b", "e1", 0, extracted="shipping"), rec("a_b", "e2", 1, target="refunds")]
    merged = merge([run_folder(tmp_path, records)])
    figures, names = confusion.figures(merged, {"t": LABELS})
    assert names == {("t", "a.b"): "confusion_t_a_b", ("t", "a_b"): "confusion_t_a_b_2"}
    assert sorted(figures) == ["confusion_t_a_b.png", "confusion_t_a_b.svg", "confusion_t_a_b_2.png",
                               "confusion_t_a_b_2.svg"]
    assert figures["confusion_t_a_b.png"][:4] == b"\x89PNG"
    conf = labels.confusion(merged.records, "a.b", "t", LABELS, ["billing", "refunds"])
    assert confusion.title("t", "a.b", conf) == ("t, a.b: 50% right (1 of 2)\n"
                                                 "most common mistake: refunds answered as billing (once)")
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(figures["confusion_t_a_b.png"])).size == (1920, 1080)  # the slide every figure is
    svg = figures["confusion_t_a_b.svg"].decode()
    assert "Prices as of" not in svg and "Runs:" in svg  # counts carry no price: the footnote names only the runs


# ---------------------------------------------------------------- example outputs


def test_an_example_shows_its_id_inputs_target_answer_score_and_output():
    r = rec("m", "007", 0, target="billing", extracted="refunds", output="Refunds <b>now</b>")
    page = examples.example_html(r, {"text": "card <i>charged</i> twice " + "x" * 500, "product": "Widget"})
    assert "<code>007</code>" in page and "input: text" in page and "card &lt;i&gt;charged&lt;/i&gt; twice" in page
    assert "[... 226 more characters]" in page and "input: product</th><td>Widget" in page
    assert "target</th><td><code>billing</code>" in page and "answer read</th><td><code>refunds</code>" in page
    assert "<span class='bad'>0</span>" in page and "<pre>Refunds &lt;b&gt;now&lt;/b&gt;</pre>" in page
    many = examples.example_html(r, {f"f{i}": "v" for i in range(9)})
    assert "3 more fields" in many and "input: f5" in many and "input: f6" not in many


# ---------------------------------------------------------------- the whole report


def test_a_label_run_reports_per_label_confusion_disagreements_and_inputs(tmp_path, capsys):
    records = []
    for i in range(12):
        target = LABELS[i % 3]
        records.append(rec("big", f"{i:03d}", 1, target=target))
        wrong = i % 4 == 0
        records.append(rec("small", f"{i:03d}", 0 if wrong else 1, target=target,
                           extracted=LABELS[(i + 1) % 3] if wrong else None))
    inputs = {f"{i:03d}": {"text": f"ticket {i}: <script>x</script>"} for i in range(12)}
    folder = run_folder(tmp_path, records, inputs=inputs)
    assert main(["report", str(folder)]) == 0
    capsys.readouterr()
    page = (folder / "report.html").read_text()
    md = (folder / "summary.md").read_text()
    assert "<h2 id='labels'>Per label</h2>" in page and "<td>small</td><td>billing</td><td>4</td><td>75.0</td>" in page
    assert page.count("alt='confusion_t_") == 2 and (folder / "plots" / "confusion_t_small.svg").is_file()
    assert "small and big scored 3 of 12 shared examples differently: big better on 3" in page
    assert "<code>000</code>" in page and "ticket 0: &lt;script&gt;" in page and "<script>" not in page
    assert page.index("id='labels'") < page.index("id='disagree'") < page.index("id='examples'")
    assert "## Per label" in md and "| t | small | billing | 4 | 75.0 | refunds (1 of 4) |" in md
    assert "| t | big | ![confusion_t_big](plots/confusion_t_big.png) |" in md and "## Where they disagree" in md
    assert "| 000 | ticket 0: &lt;script>x&lt;/script> | billing | refunds | 0 | billing | 1 |" in md


def test_a_task_that_is_not_a_label_task_has_no_label_section_and_a_run_without_inputs_says_so(tmp_path):
    records = [rec("big", "e1", 1), rec("small", "e1", 0, extracted="refunds")]
    merged = merge([run_folder(tmp_path, records, task_text='[score]\nscorer = "exact"\ntarget = "{a}"\n')])
    rows = [row("big", "t", 1.0, 1), row("small", "t", 0.0, 1)]
    traced = trace.render(merged, rows, pairs={"t": [("small", "big")]})
    assert traced.figures == {} and "Per label" not in traced.html and "Where they disagree" in traced.html
    assert examples.NO_INPUTS in examples.section(merged.records, merged.inputs, [("big", "t")])
    chosen = trace.render(merged, rows, pairs={"t": [("big", "small")]})  # the decision's reference
    assert "big vs small (reference)" in chosen.html


def test_a_corrupted_inputs_file_stops_the_report_before_any_file(tmp_path, capsys):
    folder = run_folder(tmp_path, [rec("big", "e1", 1), rec("small", "e1", 0)], inputs={"e1": {"text": "x"}})
    (folder / "inputs.jsonl").write_text('{"task": "t", "example_id": 7, "inputs": {}}\n')
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder / 'inputs.jsonl'}: line 1 is not a (task, example_id, inputs) row")
    assert not (folder / "report.html").exists() and not (folder / "summary.md").exists()
