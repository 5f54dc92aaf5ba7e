"""Fixtures for the evals tests: a fake OpenAI-compatible server on loopback and tiny benchmark files."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class FakeOpenAI:
    """State of the fake server: requests seen, failures to inject, how to answer."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.fail_with: list[int] = []  # status codes to return, in order, before answering normally
        self.url = ""

    def reply(self, body: dict) -> str:
        """Answer with the prompt's first line after 'Question:' if any, else the first three words."""
        prompt = body["messages"][-1]["content"]
        if "Question:" in prompt:
            return prompt.rsplit("Question:", 1)[1].strip().split("\n")[0]
        return " ".join(prompt.split()[:3])


def _handler(state: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            if state.fail_with:
                status = state.fail_with.pop(0)
                self.send_response(status)
                self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(b'{"error": "injected"}')
                return
            payload = {"choices": [{"message": {"role": "assistant", "content": state.reply(body)}}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1}}  # fmt: skip
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def fake_openai():
    """A fake ``/v1/chat/completions`` on 127.0.0.1 with a free port; yields its state (``.url`` = base URL)."""
    state = FakeOpenAI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()
    server.server_close()


def _sentences(topic: str, n: int) -> str:
    return " ".join(f"Filler sentence {i} about {topic} and nothing else." for i in range(n))


LONGBENCH_ROWS = [
    {"_id": "h1", "dataset": "hotpotqa", "language": "en", "input": "Where was Ada born?", "all_classes": None,
     "answers": ["London"], "length": 300,
     "context": "Passage 1:\nAda Lovelace was born in London. " + _sentences("history", 40)},
    {"_id": "h2", "dataset": "hotpotqa", "language": "en", "input": "Who built the engine?", "all_classes": None,
     "answers": ["Charles Babbage"], "length": 5000,
     "context": _sentences("engines", 40) + " Passage 2:\nThe engine was built by Charles Babbage."},
    {"_id": "g1", "dataset": "gov_report", "language": "en", "input": "", "all_classes": None,
     "answers": ["The report reviews budgets."], "length": 9000,
     "context": "The report reviews budgets for {fiscal} years. " + _sentences("budgets", 40)},
    {"_id": "t1", "dataset": "trec", "language": "en", "input": "Question: Who wrote Hamlet?\nType:",
     "all_classes": ["Individual", "City"], "answers": ["Individual"], "length": 200,
     "context": "Question: Who painted it ?\nType: Individual\nQuestion: Where is Rome ?\nType: City\n"},
]  # fmt: skip


@pytest.fixture
def longbench_file(tmp_path: Path) -> Path:
    """A tiny LongBench JSON Lines file (4 items, 3 tasks) in the official fields."""
    path = tmp_path / "mini.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in LONGBENCH_ROWS) + "\n", encoding="utf-8")
    return path


ZS_PROMPT = (
    "You are given a story and a question. Answer briefly.\n\nStory:\n{doc}\n\nQuestion:\n{q}\n\nAnswer:\n"
)


@pytest.fixture
def zeroscrolls_dir(tmp_path: Path) -> Path:
    """A tiny ZeroSCROLLS folder: narrative_qa (one id with two gold rows) and gov_report."""
    folder = tmp_path / "zs"
    folder.mkdir()
    doc = "Ada Lovelace was born in London. " + _sentences("a story", 30)
    qa = [{"id": "n1", "input": ZS_PROMPT.format(doc=doc, q="Where was Ada born?"), "output": out}
          for out in ("London", "in London")]  # fmt: skip
    report = ("You are given a report by a government agency. Write a one-page summary of the report.\n\n"
              f"Report:\n{doc}\n\nSummary:\n")  # fmt: skip
    (folder / "narrative_qa.jsonl").write_text("\n".join(json.dumps(r) for r in qa) + "\n", encoding="utf-8")
    (folder / "gov_report.jsonl").write_text(
        json.dumps({"id": "g1", "input": report, "output": "Ada."}) + "\n"
    )
    return folder
