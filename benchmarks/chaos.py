"""Chaos run of the service: traffic through Redis and upstream faults, every answer checked.

    python benchmarks/chaos.py [--phase-seconds 60] [--concurrency 16] [--method truncate] [--lru-entries 0]

Starts a redis-server, the fake provider (``api.fake_upstream``) and the service (uvicorn, ``api.app``) as
processes on free loopback ports, then sends concurrent cache hits, misses and streams (OpenAI
``/v1/chat/completions``, Anthropic ``/v1/messages``, ``/v1/compress``) through seven phases: ``baseline``,
``upstream faults`` (every 2nd provider request fails: 503, 429, 500, too slow, stalled or cut stream),
``redis frozen`` (SIGSTOP, SIGCONT at its end), ``redis killed`` (SIGKILL), ``redis restarted`` (same port,
empty), ``all at once`` (provider faults with Redis killed, restarted half-way) and ``abuse`` (every other
request malformed, deeply nested, over the body or header limits or asking for a checkpoint of its own, and
streams the client walks away from).

Every response is classified: ``correct`` (the provider's reply, whose words spell the digest of what it
received, came back complete and in order, with the request's own id, a non-ASCII header's bytes and the
question unchanged and the long part compressed as the cache says; ``/v1/compress`` equal to the first answer for a repeated input), a
``documented error`` (429/502/503/504 with a JSON error body, the provider's own error passed through
unchanged, a stream that ends with an SSE ``error`` event, or an abusive request refused with a 4xx JSON
error), ``lost or garbled`` (anything else) or
``hung`` (no answer within the configured timeouts plus a margin). After the restart, compressions of new
inputs are sent until one is found in Redis (caching resumed). Prints a table per phase and, run as a
script, writes it to ``runs/chaos-<time>.json``. ``tests/api/test_chaos.py`` runs a short version.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from api.fake_upstream import reply_text, stream_pieces
from tests.fixtures.redis_server import RedisProcess, die_with_parent, free_port

PHASES = ("baseline", "upstream faults", "redis frozen", "redis killed", "redis restarted", "all at once", "abuse")
FAULT_PHASES = ("upstream faults", "all at once")
KINDS = ("openai hit", "openai hit stream", "anthropic hit", "anthropic hit stream", "openai miss stream",
         "anthropic miss", "compress hit", "compress miss")
#: requests a client should never send: each must get a 4xx JSON error and leave its connection usable
ABUSE: tuple[tuple[str, str, bytes, dict[str, str]], ...] = (
    ("not json", "/v1/chat/completions", b'{"model": "m", "messages": [', {}),
    ("not an object", "/v1/messages", b"[1, 2, 3]", {}),
    ("messages not a list", "/v1/chat/completions", b'{"model": "m", "messages": "hi"}', {}),
    ("model not a string", "/v1/messages", b'{"model": 5, "max_tokens": 1, "messages": []}', {}),
    ("deep nesting", "/v1/chat/completions",
     b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "x": ' + b"[" * 300 + b"]" * 300 + b"}", {}),
    ("deep nesting", "/v1/compress", b'{"context": "a b c", "options": {"x": ' + b"[" * 300 + b"]" * 300 + b"}}", {}),
    ("rate out of range", "/v1/compress", b'{"context": "Some text. More text.", "rate": 5}', {}),
    ("unknown method", "/v1/compress", b'{"context": "Some text. More text.", "method": "no-such-method"}', {}),
    ("client-chosen checkpoint", "/v1/compress",
     b'{"context": "Some text. More text.", "method": "llmlingua2", "options": {"model_path": "/etc"}}', {}),
    ("huge budget header", "/v1/chat/completions",
     b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}', {"x-condenser-target-tokens": "9" * 12}),
    ("body over the limit", "/v1/compress", b'{"context": "' + b"word " * 40_000 + b'"}', {}),
    ("headers over the limit", "/v1/chat/completions",
     b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}', {"x-padding": "p" * 40_000}),
    ("too many headers", "/v1/compress", b'{"context": "Some text. More text."}',
     {f"x-extra-{i}": "1" for i in range(300)}),
)
#: the service's body limit in the run: the last abusive request is over it
MAX_BODY_BYTES = 128 * 1024
CACHE_PREFIX = "condenser:v1:"
#: the provider key every proxied request carries: it must reach the provider, and no log or cache entry
SECRET = "sk-chaos-SECRET-4711-never-stored"
WORDS = ("crane berth pallet ledger convoy invoice harbour depot gantry manifest barge customs freight "
         "tanker quay pilot reefer siding tug yard").split()


@dataclass
class ChaosConfig:
    """How long and how hard; timeouts the service runs with (the client allows their sum plus a margin)."""

    phase_s: float = 6.0
    concurrency: int = 8
    max_requests_per_phase: int = 400
    method: str = "truncate"
    rate: float = 0.25
    context_sentences: int = 24  # ~450 tokens: compression costs milliseconds, the faults dominate
    lru_entries: int = 0  # no in-process copy: every cache hit reads Redis, so its faults are felt
    upstream_timeout_s: float = 1.5
    compress_timeout_s: float = 5.0
    redis_timeout_s: float = 0.25
    redis_retry_s: float = 0.5
    stream_delay_s: float = 0.01
    margin_s: float = 5.0
    resume_limit_s: float = 15.0
    seed: int = 0
    service_root: Path = ROOT  # the checkout the service runs from (another one: what the run catches there)

    @property
    def client_timeout_s(self) -> float:
        return self.upstream_timeout_s + self.compress_timeout_s + self.margin_s

    @property
    def faults(self) -> list[str]:
        late = f"{self.upstream_timeout_s + 3.0:.1f}"  # well past the service's upstream read timeout
        return ["fail-503", "fail-429", "fail-500", f"slow-{late}", f"stall-{late}", "cut"]


@dataclass
class Record:
    """One request: where and what it was, how it was classified and why, its latency, its cache layer."""

    phase: str
    kind: str
    outcome: str  # correct | error | bad | hung
    latency_s: float
    reason: str = ""
    cache: str = ""


@dataclass
class PhaseReport:
    """One phase's counts (a row of the table)."""

    name: str
    requests: int = 0
    correct: int = 0
    documented_errors: int = 0
    lost_or_garbled: int = 0
    hung: int = 0
    max_latency_s: float = 0.0
    p50_latency_s: float = 0.0
    abusive: int = 0  # of the requests, how many were abusive or abandoned (documented errors when handled)
    cache_hits: int = 0
    readyz: str = ""  # at the phase's end
    readyz_first: str = ""  # as the phase began, before traffic met its fault
    upstream_faults: dict[str, int] = field(default_factory=dict)
    error_kinds: dict[str, int] = field(default_factory=dict)  # documented errors by what they said


def context_for(tag: str, sentences: int, seed: int = 0) -> str:
    """A readable context of ``sentences`` log lines, different for every ``tag``."""
    rng = random.Random(f"{seed}:{tag}")
    lines = [f"Log {tag}."]
    for i in range(sentences):
        a, b, c = rng.sample(WORDS, 3)
        lines.append(f"Entry {i}: the {a} at {b} {rng.randint(1, 99)} moved {rng.randint(10, 990)} units "
                     f"to the {c} before {rng.randint(1, 12)} o'clock and team {rng.choice(WORDS)} signed it.")
    return " ".join(lines)


def note(nonce: str) -> bytes:
    """A header value with non-ASCII UTF-8 bytes, which must reach the provider byte for byte."""
    return f"café {nonce} ünï".encode()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sse_events(raw: bytes) -> list[tuple[str, str]]:
    """``(event name, data)`` of each server-sent event, in order."""
    out = []
    for block in raw.decode("utf-8", "replace").replace("\r\n", "\n").split("\n\n"):
        name, data = "", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if name or data:
            out.append((name, "\n".join(data)))
    return out


def documented_error(status: int, body: bytes) -> str:
    """Why ``(status, body)`` is a documented error, or "" when it is not one."""
    try:
        error = json.loads(body)["error"]
        message = error["message"]
    except (ValueError, KeyError, TypeError):
        return ""
    if not isinstance(message, str):
        return ""
    if error.get("type") == "upstream_test":  # the provider's error, passed through unchanged
        return "upstream" if message == f"fake upstream failure {status}" else ""
    return f"service {status} {error.get('type')}" if status in (429, 502, 503, 504) else ""


class Verdict(Exception):
    """How an answer was classified: ``outcome`` is ``error`` (documented) or ``bad``; ``reason`` says why."""

    def __init__(self, outcome: str, reason: str):
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


def _status_verdict(status: int, raw: bytes) -> Verdict:
    why = documented_error(status, raw)
    return Verdict("error", why) if why else Verdict("bad", f"status {status}: {raw[:120]!r}")


class Traffic:
    """Builds the requests of each kind and checks every answer against what was sent."""

    def __init__(self, cfg: ChaosConfig, base: str):
        self.cfg, self.base = cfg, base
        self.counter = itertools.count()
        self.abuse_counter = itertools.count()  # its own: every abusive request is sent in turn
        self.hit_context = {api: context_for(f"{api}-hit", cfg.context_sentences, cfg.seed)
                            for api in ("openai", "anthropic", "compress")}
        self.reference: dict[str, str] = {}  # api -> what its repeated input compressed to, first time

    async def one(self, client: httpx.AsyncClient, phase: str, kind: str) -> Record:
        """Send one request of ``kind`` and classify its answer."""
        n = next(self.counter)
        start = time.perf_counter()
        cache: list[str] = []
        try:
            await asyncio.wait_for(self._send(client, kind, f"{phase}-{n}", n, cache), self.cfg.client_timeout_s)
            outcome, reason = "correct", ""
        except Verdict as verdict:
            outcome, reason = verdict.outcome, verdict.reason
        except TimeoutError:
            outcome, reason = "hung", f"no answer in {self.cfg.client_timeout_s:.1f} s"
        except httpx.HTTPError as exc:
            outcome, reason = "bad", f"transport {type(exc).__name__}: {exc}"[:200]
        return Record(phase, kind, outcome, time.perf_counter() - start, reason, "".join(cache))

    async def _send(self, client: httpx.AsyncClient, kind: str, nonce: str, n: int, cache: list[str]) -> None:
        if kind == "abuse":
            return await self._abuse(client, next(self.abuse_counter))
        if kind == "abandon":
            return await self._abandon(client, n)
        api, hit = kind.split()[0], " hit" in kind
        tag = f"{api}-hit" if hit else f"{api}-miss-{n}"
        context = self.hit_context[api] if hit else context_for(tag, self.cfg.context_sentences, self.cfg.seed)
        question = f"Which team signed entry 3 of log {tag}?"
        if api == "compress":
            body = {"context": context, "query": question, "rate": self.cfg.rate}
            r = await client.post(f"{self.base}/v1/compress", json=body, headers={"x-chaos-id": nonce})
            return self._check_compress(r.status_code, r.content, context, hit, cache)
        stream = kind.endswith("stream")
        if api == "openai":
            path = "/v1/chat/completions"
            body = {"model": "gpt-4o-mini", "stream": stream, "messages": [
                {"role": "system", "content": context}, {"role": "user", "content": question}]}
        else:
            path = "/v1/messages"
            body = {"model": "claude-test", "max_tokens": 64, "stream": stream, "system": context,
                    "messages": [{"role": "user", "content": question}]}
        credential = "x-api-key" if api == "anthropic" else "authorization"
        headers = {"x-chaos-id": nonce, "x-chaos-note": note(nonce),
                   credential: SECRET if api == "anthropic" else f"Bearer {SECRET}"}
        async with client.stream("POST", f"{self.base}{path}", json=body, headers=headers) as r:
            raw = await r.aread()
        cache.append(r.headers.get("x-condenser-cache", ""))
        self.check_chat(r.status_code, r.headers, raw, api, context, question, nonce, hit)

    def check_chat(self, status: int, headers: httpx.Headers, raw: bytes, api: str, context: str, question: str,
                   nonce: str, hit: bool) -> None:
        """Raise a ``Verdict`` unless the proxy's answer (``api``: openai or anthropic) to a request with this
        ``context``, ``question`` and ``x-chaos-id: nonce`` is the provider's reply, whole and in order."""
        if status != 200:
            raise _status_verdict(status, raw)
        if headers.get("content-type", "").startswith("text/event-stream"):
            received, pieces = self._read_stream(raw, api == "anthropic")
            text = "".join(pieces)
        else:
            received, text = self._read_answer(raw, api == "anthropic")
            if headers.get("x-fake-body-sha256") != received["body_sha256"]:
                raise Verdict("bad", "the answer's report is not the one its headers name")
            pieces = None
        expected = reply_text(received)
        if text != expected or (pieces is not None and pieces != stream_pieces(expected)):
            raise Verdict("bad", "reply text lost, garbled or out of order")
        if received["headers"].get("x-chaos-id") != nonce:
            raise Verdict("bad", f"the answer of another request ({received['headers'].get('x-chaos-id')})")
        if received["headers"].get("x-chaos-note", "").encode("latin-1") != note(nonce):
            raise Verdict("bad", "a header's bytes changed on the way to the provider")
        if ("x-api-key" if api == "anthropic" else "authorization") not in received["credentials"]:
            raise Verdict("bad", "the client's credential did not reach the provider")
        self._check_sent(received, headers.get("x-condenser-compression", ""), context, question, hit, api)

    async def _abuse(self, client: httpx.AsyncClient, n: int) -> None:
        """One of ``ABUSE``: refused with a 4xx JSON error is the documented answer; anything else is bad."""
        name, path, content, headers = ABUSE[n % len(ABUSE)]
        r = await client.post(f"{self.base}{path}", content=content,
                              headers={"content-type": "application/json", **headers})
        try:
            message = r.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = None
        if 400 <= r.status_code < 500 and r.status_code != 429 and isinstance(message, str):
            raise Verdict("error", f"refused {name}: {r.status_code}")
        raise Verdict("bad", f"abuse '{name}' answered {r.status_code}: {r.content[:120]!r}")

    async def _abandon(self, client: httpx.AsyncClient, n: int) -> None:
        """A stream the client walks away from after its first bytes (the service must drop it cleanly)."""
        body = {"model": "gpt-4o-mini", "stream": True, "messages": [
            {"role": "system", "content": context_for(f"abandon-{n}", self.cfg.context_sentences, self.cfg.seed)},
            {"role": "user", "content": "Which team?"}]}
        async with client.stream("POST", f"{self.base}/v1/chat/completions", json=body) as r:
            first = await anext(r.aiter_bytes(), b"")
        if r.status_code == 200 and first.startswith(b"data: {"):
            raise Verdict("error", "stream abandoned by the client")
        raise Verdict("bad", f"abandoned stream began with {r.status_code}: {first[:80]!r}")

    def _check_compress(self, status: int, raw: bytes, context: str, hit: bool, cache: list[str]) -> None:
        if status != 200:
            raise _status_verdict(status, raw)
        try:
            result = json.loads(raw)
            text, kept = result["text"], result["kept"]
        except (ValueError, KeyError, TypeError) as exc:
            raise Verdict("bad", f"unreadable /v1/compress body {raw[:120]!r}") from exc
        cache.append("hit" if result.get("cached") else "miss")
        if not text or len(text) >= len(context):
            raise Verdict("bad", "not compressed")
        if any(context[s["start"]:s["end"]].strip() not in text for s in kept):
            raise Verdict("bad", "the compressed text does not hold its kept spans")
        if hit and self.reference.setdefault("compress", text) != text:
            raise Verdict("bad", "a cached compression differs from the first one")

    @staticmethod
    def _read_answer(raw: bytes, anthropic: bool) -> tuple[dict, str]:
        try:
            answer = json.loads(raw)
            text = answer["content"][0]["text"] if anthropic else answer["choices"][0]["message"]["content"]
            return answer["received"], text
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise Verdict("bad", f"unreadable answer {raw[:120]!r}") from exc

    @staticmethod
    def _read_stream(raw: bytes, anthropic: bool) -> tuple[dict, list[str]]:
        """``(received report, text pieces)`` of a complete stream; a stream that ends with an error event is
        a documented error, one that just stops is lost."""
        events = sse_events(raw)
        if events and events[-1][0] == "error":
            if documented_error(502, events[-1][1].encode()):
                raise Verdict("error", "stream error event")
            raise Verdict("bad", "unreadable stream error event")
        try:
            datas = [json.loads(d) for _, d in events if d != "[DONE]"]
            if anthropic:
                received = datas[0]["message"]["received"]
                pieces = [d["delta"]["text"] for d in datas if d.get("type") == "content_block_delta"]
                complete = datas[-1].get("type") == "message_stop"
            else:
                received = datas[0]["received"]
                pieces = [d["choices"][0]["delta"]["content"] for d in datas]
                complete = events[-1][1] == "[DONE]"
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise Verdict("bad", f"unreadable stream {raw[:120]!r}") from exc
        if not complete:
            raise Verdict("bad", "the stream ended without its last event or an error event")
        return received, pieces

    def _check_sent(self, received: dict, status: str, context: str, question: str, hit: bool, api: str) -> None:
        """The question reached the provider unchanged; the context compressed, or whole when it was not."""
        messages = received["messages"]
        if len(messages) != 2 or messages[0]["role"] != "system" or messages[1]["sha256"] != sha(question):
            raise Verdict("bad", "the provider did not get the question as sent")
        system = messages[0]
        if status == "applied":
            if system["chars"] >= len(context):
                raise Verdict("bad", "compression applied but the context arrived whole")
            if hit and self.reference.setdefault(api, system["sha256"]) != system["sha256"]:
                raise Verdict("bad", "a cached compression differs from the first one")
        elif status in ("skipped", "failed-open", "bypassed"):
            if system["sha256"] != sha(context):
                raise Verdict("bad", f"compression {status} but the context arrived changed")
        else:
            raise Verdict("bad", f"x-condenser-compression is {status!r}")


def start_process(cmd: list[str], env: dict[str, str], url: str, log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    """Start ``cmd`` in ``cwd`` (stderr to ``log``) and wait until ``url`` answers."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(die_with_parent(cmd), env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=err)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[2]} exited: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{cmd[2]} did not start: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def stack(cfg: ChaosConfig) -> Iterator[tuple[RedisProcess, str, str, Path]]:
    """Redis, the fake provider and the service on loopback: ``(redis, service URL, provider URL, logs)``;
    every process is gone when the block ends, however it ends."""
    procs: list[subprocess.Popen] = []
    redis = RedisProcess(tied=True)  # started from worker threads too: they live as long as the run
    logs = Path(tempfile.mkdtemp(prefix="condenser-chaos-"))
    try:
        redis.start()
        up_port, port = free_port(), free_port()
        upstream = f"http://127.0.0.1:{up_port}"
        procs.append(start_process([sys.executable, "-m", "api.fake_upstream", "--port", str(up_port),
                                    "--stream-delay", str(cfg.stream_delay_s), "--no-record"], {},
                                   f"{upstream}/healthz", logs / "upstream.log"))
        env = {"CONDENSER_REDIS_URL": redis.url, "CONDENSER_OPENAI_BASE_URL": f"{upstream}/v1",
               "CONDENSER_ANTHROPIC_BASE_URL": f"{upstream}/v1", "CONDENSER_METHOD": cfg.method,
               "CONDENSER_RATE": str(cfg.rate), "CONDENSER_MIN_TOKENS": "100",
               "CONDENSER_LRU_ENTRIES": str(cfg.lru_entries),
               "CONDENSER_UPSTREAM_TIMEOUT_S": str(cfg.upstream_timeout_s),
               "CONDENSER_COMPRESS_TIMEOUT_S": str(cfg.compress_timeout_s),
               "CONDENSER_REDIS_TIMEOUT_S": str(cfg.redis_timeout_s),
               "CONDENSER_REDIS_RETRY_S": str(cfg.redis_retry_s), "CONDENSER_API_KEYS": "[]",
               "CONDENSER_RATE_LIMIT_PER_MINUTE": "0", "CONDENSER_FAIL_OPEN": "true",
               "CONDENSER_MAX_BODY_BYTES": str(MAX_BODY_BYTES), "CONDENSER_PRELOAD": "true"}
        base = f"http://127.0.0.1:{port}"
        procs.append(start_process([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
                                    "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                                    "--no-access-log"], env, f"{base}/healthz", logs / "service.log",
                                   cfg.service_root))
        yield redis, base, upstream, logs
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        redis.thaw()
        redis.stop()


async def _traffic(traffic: Traffic, client: httpx.AsyncClient, phase: str, cfg: ChaosConfig) -> list[Record]:
    """``cfg.concurrency`` workers cycling through the request kinds for ``cfg.phase_s`` seconds (in the
    ``abuse`` phase, every other request is an abusive one)."""
    kinds = (*(k for kind in KINDS for k in (kind, "abuse")), "abandon") if phase == "abuse" else KINDS
    records: list[Record] = []
    deadline = time.monotonic() + cfg.phase_s
    budget = itertools.count()

    async def worker(offset: int) -> None:
        for i in itertools.count(offset):
            if time.monotonic() >= deadline or next(budget) >= cfg.max_requests_per_phase:
                return
            records.append(await traffic.one(client, phase, kinds[i % len(kinds)]))

    await asyncio.gather(*(worker(w) for w in range(cfg.concurrency)))
    return records


def stored_text(redis: RedisProcess, marker: str, match: str = f"{CACHE_PREFIX}*") -> bool:
    """Whether a value in Redis under a key like ``match`` (default: cached compressions) holds ``marker``."""
    client = redis.client()
    try:
        keys = list(client.scan_iter(match=match, count=1000))
        chunks = [keys[i:i + 500] for i in range(0, len(keys), 500)]
        return any(value and marker.encode() in value for chunk in chunks for value in client.mget(chunk))
    finally:
        client.close()


async def resume_probe(client: httpx.AsyncClient, base: str, redis: RedisProcess, cfg: ChaosConfig) -> dict:
    """New compressions, one after another, until one is found in Redis: how long it took, how many were
    answered but not stored first, and how many were not answered (a compression timeout, say)."""
    start, limit = time.monotonic(), max(cfg.resume_limit_s, cfg.phase_s)
    not_stored = failed = 0
    while True:
        marker = f"resume-{cfg.seed}-{time.time_ns()}"
        body = {"context": context_for(marker, cfg.context_sentences, cfg.seed), "query": "Which team?",
                "rate": cfg.rate}
        try:
            answered = (await client.post(f"{base}/v1/compress", json=body)).status_code == 200
        except httpx.HTTPError:
            answered = False
        stored = answered and await asyncio.to_thread(stored_text, redis, marker)
        not_stored += answered and not stored
        failed += not answered
        if stored or time.monotonic() - start > limit:
            return {"resumed": stored, "seconds": round(time.monotonic() - start, 3),
                    "compressions_not_stored": not_stored, "compressions_failed": failed}
        await asyncio.sleep(0.05)


async def _readyz(client: httpx.AsyncClient, base: str) -> str:
    try:
        return (await client.get(f"{base}/readyz")).json().get("status", "?")
    except (httpx.HTTPError, ValueError):
        return "unreachable"


async def _set_faults(client: httpx.AsyncClient, upstream: str, faults: list[str]) -> dict:
    r = await client.post(f"{upstream}/_control/faults", json={"faults": faults, "every": 2})
    r.raise_for_status()
    return r.json()


def summarise(name: str, records: list[Record]) -> PhaseReport:
    lat = sorted(r.latency_s for r in records)

    def count(outcome: str) -> int:
        return sum(r.outcome == outcome for r in records)

    return PhaseReport(name=name, requests=len(records), correct=count("correct"), documented_errors=count("error"),
                       abusive=sum(r.kind in ("abuse", "abandon") for r in records),
                       lost_or_garbled=count("bad"), hung=count("hung"),
                       max_latency_s=round(lat[-1], 3) if lat else 0.0,
                       p50_latency_s=round(lat[len(lat) // 2], 3) if lat else 0.0,
                       cache_hits=sum(r.cache == "hit" for r in records),
                       error_kinds=dict(Counter(r.reason for r in records if r.outcome == "error").most_common()))


async def run_chaos(cfg: ChaosConfig, redis: RedisProcess, base: str, upstream: str) -> dict:
    """Every phase against a running stack; the report (per phase, the resume probe, bad examples)."""
    traffic = Traffic(cfg, base)
    limits = httpx.Limits(max_connections=cfg.concurrency + 4, max_keepalive_connections=cfg.concurrency + 4)
    phases: list[PhaseReport] = []
    bad: list[dict] = []
    resume: dict = {}
    async with httpx.AsyncClient(limits=limits, timeout=cfg.client_timeout_s) as client:
        # one of each kind in turn, nothing broken yet: the reference answers for the repeated inputs
        warm = [await traffic.one(client, "warm-up", kind) for kind in KINDS]
        phases.append(summarise("warm-up", warm))
        bad += [asdict(r) for r in warm if r.outcome != "correct"]
        for name in PHASES:
            pending = await _enter(name, client, redis, upstream, cfg)
            ready_first = await _readyz(client, base)  # before any traffic has met the fault
            if name == "redis restarted":
                records, resume = await asyncio.gather(_traffic(traffic, client, name, cfg),
                                                       resume_probe(client, base, redis, cfg))
            else:
                records = await _traffic(traffic, client, name, cfg)
            ready = await _readyz(client, base)
            plan = (await client.get(f"{upstream}/_control/faults")).json()
            await _leave(name, client, redis, upstream, pending)
            report = summarise(name, records)
            report.readyz, report.readyz_first = ready, ready_first
            report.upstream_faults = plan["injected"] if name in FAULT_PHASES else {}
            phases.append(report)
            bad += [asdict(r) for r in records if r.outcome in ("bad", "hung")]
        recovered = await _poll_ready(client, base, cfg.resume_limit_s)
        # here, not after the loop: a Redis restarted from a worker thread dies with the loop's executor
        secret_in_redis = await asyncio.to_thread(stored_text, redis, SECRET, "*")
    return {"config": {**asdict(cfg), "service_root": str(cfg.service_root), "client_timeout_s": cfg.client_timeout_s,
                       "faults": cfg.faults},
            "phases": [asdict(p) for p in phases], "resume": resume, "ready_after_restart": recovered,
            "secret_in_redis": secret_in_redis,
            "bad_examples": _distinct(bad)}


def _distinct(bad: list[dict], limit: int = 80) -> list[dict]:
    """The first record of each (phase, kind, reason), at most ``limit``."""
    seen: dict[tuple, dict] = {}
    for record in bad:
        seen.setdefault((record["phase"], record["kind"], record["reason"][:60]), record)
    return list(seen.values())[:limit]


async def _enter(name: str, client: httpx.AsyncClient, redis: RedisProcess, upstream: str,
                 cfg: ChaosConfig) -> asyncio.Task | None:
    """Break what phase ``name`` breaks; returns a task that must end with the phase (a later restart)."""
    if name in FAULT_PHASES:
        await _set_faults(client, upstream, cfg.faults)
    if name == "redis frozen":
        await asyncio.to_thread(redis.freeze)
    elif name in ("redis killed", "all at once"):
        await asyncio.to_thread(redis.stop)
    elif name == "redis restarted":
        await asyncio.to_thread(redis.start)
    if name == "all at once":  # Redis comes back half-way through, faults still on
        return asyncio.create_task(_restart_later(redis, cfg.phase_s / 2))
    return None


async def _leave(name: str, client: httpx.AsyncClient, redis: RedisProcess, upstream: str,
                 pending: asyncio.Task | None) -> None:
    """Repair what ``_enter`` broke."""
    if pending is not None:
        await pending
    if name in FAULT_PHASES:
        await _set_faults(client, upstream, [])
    if name == "redis frozen":
        await asyncio.to_thread(redis.thaw)


async def _restart_later(redis: RedisProcess, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    await asyncio.to_thread(redis.start)


async def _poll_ready(client: httpx.AsyncClient, base: str, limit_s: float) -> str:
    deadline = time.monotonic() + limit_s
    status = await _readyz(client, base)
    while status != "ready" and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        status = await _readyz(client, base)
    return status


def table(report: dict) -> str:
    """The report as a Markdown table, one row per phase."""
    rows = [("| phase | requests | correct | documented errors | lost/garbled | hung | p50 s | max s | "
             "cache hits | /readyz first, last |"), "|---|---|---|---|---|---|---|---|---|---|"]
    for p in report["phases"]:
        rows.append(f"| {p['name']} | {p['requests']} | {p['correct']} | {p['documented_errors']} | "
                    f"{p['lost_or_garbled']} | {p['hung']} | {p['p50_latency_s']:.3f} | {p['max_latency_s']:.3f} | "
                    f"{p['cache_hits']} | {p['readyz_first']}, {p['readyz']} |")
    resume = report["resume"]
    rows.append(f"\ncaching after the Redis restart: resumed={resume.get('resumed')} after "
                f"{resume.get('seconds')} s, {resume.get('compressions_not_stored')} compressions answered but not "
                f"stored first ({resume.get('compressions_failed')} not answered); "
                f"/readyz after recovery: {report['ready_after_restart']}")
    for p in report["phases"]:
        if p["upstream_faults"]:
            rows.append(f"{p['name']}: faults injected {p['upstream_faults']}; documented errors {p['error_kinds']}")
    return "\n".join(rows)


def chaos(cfg: ChaosConfig) -> dict:
    """Start the stack, run the phases, stop everything; the report (with the service's log tail)."""
    with stack(cfg) as (redis, base, upstream, logs):
        report = asyncio.run(run_chaos(cfg, redis, base, upstream))
        service_log = (logs / "service.log").read_text(errors="replace")
        report["secret_in_logs"] = SECRET in service_log
        report["service_log_tail"] = service_log[-3000:]
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phase-seconds", type=float, default=60.0, help="traffic per phase")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-requests", type=int, default=20_000, help="requests per phase at most")
    ap.add_argument("--method", default="truncate", help="compression method the service uses")
    ap.add_argument("--lru-entries", type=int, default=0, help="the service's in-process cache (0: Redis only)")
    ap.add_argument("--service-root", type=Path, default=ROOT,
                    help="run the service from this checkout (say `git archive <commit>` of an older main)")
    ap.add_argument("--out", type=Path, default=None, help="JSON report (default runs/chaos-<time>.json)")
    args = ap.parse_args()
    cfg = ChaosConfig(phase_s=args.phase_seconds, concurrency=args.concurrency,
                      max_requests_per_phase=args.max_requests, method=args.method, lru_entries=args.lru_entries,
                      service_root=args.service_root.resolve())
    report = chaos(cfg)
    report["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                         "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    out = args.out or ROOT / "runs" / f"chaos-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(table(report))
    print(f"\nreport: {out}")
    failed = sum(p["lost_or_garbled"] + p["hung"] for p in report["phases"])
    sys.exit(1 if failed or not report["resume"].get("resumed") else 0)


if __name__ == "__main__":
    main()
