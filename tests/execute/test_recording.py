"""The Recorder from several threads at once: every record written once, every count on its cell."""

from __future__ import annotations

import threading

from bench import scoring
from bench.core.types import Cell, Record
from bench.execute.recording import Recorder
from bench.prepare.planning import Plan
from bench.runfolder.store import RECORDS, RunStore, read_jsonl


def test_threads_recording_into_the_same_cells_lose_no_count(tmp_path):
    ids = [str(i) for i in range(20)]
    plan = Plan(requests=[], targets={i: "a" for i in ids}, prompt_sha256={i: "h" for i in ids},
                scorer=scoring.exact())
    recorder = Recorder(RunStore(tmp_path), {"t": plan})
    cells = [Cell("m", "t"), Cell("n", "t")]

    def work(k: int) -> None:
        for i in ids:
            comp = {"text": "a" if k % 2 else "b", "input_tokens": 3, "output_tokens": 2, "finish_reason": "stop",
                    "error": "HTTP 500" if i == "0" else None, "retries": 1}
            recorder.record(cells[k % 2], [i], [comp], repeat=k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = [Record.from_json(r) for r in read_jsonl(tmp_path / RECORDS)]
    assert len(rows) == 8 * 20 and len({(r.model, r.example_id, r.repeat) for r in rows}) == 8 * 20
    for cell in cells:
        assert cell.recorded == 4 * 20 and cell.errors == 4 and cell.retries == 4 * 20
        assert cell.output_tokens == 4 * 20 * 2 and sum(cell.tokens_by_repeat.values()) == cell.output_tokens
