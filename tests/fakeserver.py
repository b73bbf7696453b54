"""A stand-in model server, started by the run like any `server = "command"` (or, through a fake
`vllm` executable, like vLLM): tests/fakeapi.py's OpenAI-compatible server on --port, with /health,
/v1/models and a /metrics page in vLLM's Prometheus format computed from the requests it served.
Flags make it misbehave: exit at once, never get ready, ignore SIGTERM.

    python tests/fakeserver.py --port 8000 --model m [--ttft-s 0.01] [--exit-code 3] [--never-ready]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakeapi import FakeAPI  # noqa: E402

TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
                20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]  # vLLM's own bucket bounds
TICKETS = Path(__file__).resolve().parents[1] / "tasks" / "data" / "ticket_routing.jsonl"


def metrics(model: str):
    labels = f'engine="0",model_name="{model}"'

    def page(api: FakeAPI) -> tuple[int, str, str]:
        running = sum(1 for s in api.log if not s.completed)
        ttfts = [s.first_token_at - s.received_at for s in api.log if s.first_token_at is not None]
        lines = ["# HELP vllm:num_requests_running Number of requests in model execution batches.",
                 "# TYPE vllm:num_requests_running gauge", f"vllm:num_requests_running{{{labels}}} {float(running)}",
                 "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
                 "# TYPE vllm:num_requests_waiting gauge", f"vllm:num_requests_waiting{{{labels}}} 0.0",
                 "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
                 "# TYPE vllm:kv_cache_usage_perc gauge", f"vllm:kv_cache_usage_perc{{{labels}}} {running / 64}",
                 "# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.",
                 "# TYPE vllm:time_to_first_token_seconds histogram"]
        for le in TTFT_BUCKETS:
            n = sum(t <= le for t in ttfts)
            lines.append(f'vllm:time_to_first_token_seconds_bucket{{{labels},le="{le}"}} {float(n)}')
        lines += [f'vllm:time_to_first_token_seconds_bucket{{{labels},le="+Inf"}} {float(len(ttfts))}',
                  f"vllm:time_to_first_token_seconds_count{{{labels}}} {float(len(ttfts))}",
                  f"vllm:time_to_first_token_seconds_sum{{{labels}}} {sum(ttfts)}"]
        return 200, "text/plain; version=0.0.4", "\n".join(lines) + "\n"
    return page


def right_queue(messages: list[dict]) -> str:
    tickets = [json.loads(line) for line in TICKETS.read_text().splitlines()]
    prompt = messages[-1]["content"]
    return next((t["queue"] for t in tickets if t["text"] in prompt), "other")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--model", default="fake")
    p.add_argument("--startup-s", type=float, default=0.0)
    p.add_argument("--exit-code", type=int)
    p.add_argument("--never-ready", action="store_true")
    p.add_argument("--ignore-term", action="store_true")
    p.add_argument("--ttft-s", type=float, default=0.0)
    p.add_argument("--itl-s", type=float, default=0.0)
    p.add_argument("--pid-file")
    p.add_argument("--reply", choices=("ok", "queue"), default="queue")
    p.add_argument("--die-after", type=int, help="exit abruptly when asked for answer N+1 (a crash under load)")
    args, _ = p.parse_known_args()  # vLLM's own flags (--served-model-name ...) are accepted and ignored
    if args.pid_file:
        Path(args.pid_file).write_text(str(os.getpid()))
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(f"fake server: loading {args.model}", flush=True)
    time.sleep(args.startup_s)
    if args.exit_code is not None:
        print(f"fake server: fatal: cannot load {args.model}", flush=True)
        sys.exit(args.exit_code)
    ready = (lambda api: (503, "text/plain", "loading")) if args.never_ready else (lambda api: (200, "text/plain", "ok"))
    models = (lambda api: (200, "application/json", json.dumps({"object": "list", "data": [{"id": args.model}]})))
    reply = right_queue if args.reply == "queue" else (lambda m: "OK")
    if args.die_after is not None:
        answered = []

        def reply(messages, answer=reply):
            if len(answered) >= args.die_after:
                print("fake server: crashed", flush=True)
                os._exit(3)
            answered.append(1)
            return answer(messages)
    api = FakeAPI(port=args.port, ttft_s=args.ttft_s, itl_s=args.itl_s, reply=reply,
                  get_routes={"/health": ready, "/v1/models": (ready if args.never_ready else models),
                              "/metrics": metrics(args.model)})
    with api:
        print(f"fake server: listening on {args.host}:{args.port}", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
