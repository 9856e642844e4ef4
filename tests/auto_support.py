"""Test support for automatic labels: running sums with known step truth, a policy of known
quality that continues them, a judge of known accuracy, and an OpenAI-compatible HTTP server.

The task is examples/train_prm.py's: "sum 3 + 1 + 4" worked out one addition a step, then
"The answer is 8". A solution that slips carries its wrong running total on, as a model would;
the truth of a step is whether the solution is still right after it (what rollouts estimate).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import labwidget as lw
from labwidget.auto import Prefix

STEP = re.compile(r"^(-?\d+) \+ (\d+) = (-?\d+)$")


@dataclass
class Solution:
    """A worked sum: its prompt, steps, true answer, and the truth of each step."""

    prompt: str
    steps: list[str]
    answer: int
    truth: list[int]

    @property
    def first_error(self) -> int:
        return self.truth.index(-1) if -1 in self.truth else -1


def solution(rng: random.Random, terms: int, p_slip: float) -> Solution:
    """A sum of ``terms`` numbers; each addition slips (off by 1 or 2) with probability p_slip."""
    numbers = [rng.randint(1, 9) for _ in range(terms)]
    prompt = "sum " + " + ".join(map(str, numbers))
    shown, steps = numbers[0], []
    for term in numbers[1:]:
        result = shown + term + (rng.choice([-2, -1, 1, 2]) if rng.random() < p_slip else 0)
        steps.append(f"{shown} + {term} = {result}")
        shown = result
    steps.append(f"The answer is {shown}")
    return Solution(prompt, steps, sum(numbers), step_truth(prompt, steps))


def step_truth(prompt: str, steps: Sequence[str]) -> list[int]:
    """+1 while every step so far is right, −1 from the first wrong one on."""
    numbers = [int(x) for x in prompt.removeprefix("sum ").split(" + ")]
    total, truth, right = numbers[0], [], True
    for index, step in enumerate(steps):
        found = STEP.match(step)
        if found and index + 1 < len(numbers):
            start, term, result = map(int, found.groups())
            right = (
                right and start == total and term == numbers[index + 1] and result == start + term
            )
            total += numbers[index + 1]
        else:
            right = right and step == f"The answer is {total}"
        truth.append(1 if right else -1)
    return truth


def add_solutions(
    store: lw.Store, solutions: Sequence[Solution], dataset: str = "sums"
) -> list[str]:
    with store.batch() as batch:
        return [
            batch.add_item(
                s.prompt, s.steps, dataset=dataset, meta={"ground_truth_answer": str(s.answer)}
            )
            for s in solutions
        ]


@dataclass
class Policy:
    """A rollout generator that continues a sum: each addition right with probability ``p``.

    From a wrong prefix it reaches the right answer only by luck (probability ``lucky``). Its
    randomness comes from each prefix's seed, so its rollouts do not depend on batching. With
    ``log`` it appends every call's prompts to that file (one JSON line per call).
    """

    p: float = 1.0
    lucky: float = 0.0
    log: str | None = None

    def __call__(self, prompts: list[str], n: int) -> list[list[str]]:
        if self.log is not None:
            with open(self.log, "a", encoding="utf-8") as file:
                file.write(json.dumps([str(p) for p in prompts]) + "\n")
        return [self.continue_(p, n) for p in prompts]

    def continue_(self, prefix: str, n: int) -> list[str]:
        assert isinstance(prefix, Prefix)
        rng = random.Random(prefix.seed)
        numbers = [int(x) for x in prefix.question.removeprefix("sum ").split(" + ")]
        right = step_truth(prefix.question, prefix.steps)[-1] == 1
        shown = int(STEP.match(prefix.steps[-1]).group(3))  # type: ignore[union-attr]
        completions = []
        for _ in range(n):
            total, lines = shown, []
            for term in numbers[len(prefix.steps) + 1 :]:
                result = total + term + (0 if rng.random() < self.p else rng.choice([-1, 1]))
                lines.append(f"{total} + {term} = {result}")
                total = result
            if not right and rng.random() < self.lucky:
                total = sum(numbers)
            completions.append("\n".join([*lines, f"The answer is {total}"]))
        return completions


@dataclass
class Judge:
    """A step-by-step verifier right with probability ``accuracy`` per step (seeded per step)."""

    accuracy: float = 1.0
    seed: int = 0
    calls: list[str] = field(default_factory=list)

    def __call__(self, prompt: str, steps: list[str]) -> list[dict[str, Any]]:
        self.calls.append(prompt)
        truth = step_truth(prompt, steps)
        verdicts = []
        for index, value in enumerate(truth):
            rng = random.Random(f"{self.seed}:{prompt}:{index}")
            said = value if rng.random() < self.accuracy else -value
            verdicts.append(
                {
                    "value": said,
                    "rationale": f"step {index + 1} looks {'right' if said > 0 else 'wrong'}",
                }
            )
        return verdicts


class ChatServer(ThreadingHTTPServer):
    """An OpenAI-compatible server on 127.0.0.1: /v1/chat/completions and /v1/completions.

    Its "model" appends " [k]" to the text it continues, for the k-th of ``n`` choices, and
    names itself, so a test sees which server answered what. It records every request body and
    the most requests it had in flight at once.
    """

    def __init__(self, name: str, delay_s: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.name = name
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server = self.server
        with server.lock:
            server.requests.append({"path": self.path, **body})
            server.in_flight += 1
            server.most_in_flight = max(server.most_in_flight, server.in_flight)
        try:
            time.sleep(server.delay_s)
            if server.fail_with is not None:
                self.send_error(server.fail_with, "the model fell over")
                return
            if self.path.endswith("/chat/completions"):
                last = body["messages"][-1]["content"]
                choices = [
                    {
                        "index": k,
                        "message": {"role": "assistant", "content": f"{server.name}:{last}[{k}]"},
                        "finish_reason": "stop",
                    }
                    for k in range(body.get("n", 1))
                ]
                reply = {"object": "chat.completion", "choices": choices}
            elif self.path.endswith("/completions"):
                choices = [
                    {
                        "index": k,
                        "text": f"{server.name}:{body['prompt']}[{k}]",
                        "finish_reason": "stop",
                    }
                    for k in range(body.get("n", 1))
                ]
                reply = {"object": "text_completion", "choices": choices}
            else:
                self.send_error(404)
                return
        finally:
            with server.lock:
                server.in_flight -= 1
        payload = json.dumps(
            {"id": "cmpl-1", "created": 0, "model": body["model"], **reply}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def chat_servers(count: int, delay_s: float = 0.0) -> Iterator[list[ChatServer]]:
    servers = [ChatServer(f"s{k}", delay_s) for k in range(count)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def logged_prompts(log: Path) -> list[str]:
    """Every prompt a logging Policy was asked to continue, in order."""
    if not log.exists():
        return []
    return [p for line in log.read_text(encoding="utf-8").splitlines() for p in json.loads(line)]


# Factories for `labwidget autolabel --generator tests.auto_support:NAME` and friends.
def perfect_policy() -> Policy:
    return Policy()


def wrong_count_policy() -> Any:
    return lambda prompts, n: [["The answer is 1"] * n]


def perfect_judge() -> Judge:
    return Judge()


def broken_factory() -> Any:
    raise OSError("no GPU here")


def last_line_checker(item: dict[str, Any], completion: str) -> bool:
    return completion.splitlines()[-1] == f"The answer is {item['meta']['ground_truth_answer']}"
