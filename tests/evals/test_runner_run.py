"""End-to-end runs: the oracle reader and a fake OpenAI-compatible server, resumability, outputs."""

import json
import threading

from compressor import registry
from compressor.methods.truncate import Truncate
from evals.data import load_longbench, load_zeroscrolls
from evals.readers import OpenAIReader, RetryPolicy
from evals.runner import RunConfig, run


def test_oracle_run_writes_results_summary_plots_and_resumes(longbench_file, tmp_path):
    config = RunConfig("longbench", ["truncate", "none"], [0.5, 0.2], data=str(longbench_file),
                       out=str(tmp_path / "run"), workers=2)  # fmt: skip
    result = run(config, progress=False)
    assert (result.new, result.skipped, result.errors) == (12, 0, [])  # 4 items x (2 rates + baseline)
    for name in (
        "results.jsonl",
        "config.json",
        "summary.md",
        "summary.csv",
        "score_vs_ratio.png",
        "latency.png",
    ):
        assert (result.run_dir / name).stat().st_size > 0, name
    rows = [json.loads(line) for line in (result.run_dir / "results.jsonl").read_text().splitlines()]
    strong = {r["id"]: r for r in rows if r["rate"] == 0.2}
    assert all(r["compressed_tokens"] < r["original_tokens"] for r in strong.values() if r["id"] != "t1")
    assert strong["h1"]["score"] == 1.0  # the answer sits at the start, which truncation keeps
    baseline = [r for r in rows if r["method"] == "none"]
    assert all(r["ratio"] == 1.0 and r["score"] == 1.0 for r in baseline if r["task"] == "hotpotqa")
    avg = {(s["method"], s["rate"]): s for s in result.summary if s["task"] == "average"}
    assert set(avg) == {("truncate", 0.5), ("truncate", 0.2), ("none", 1.0)}
    assert avg[("truncate", 0.2)]["ratio"] > avg[("truncate", 0.5)]["ratio"] > 1.5
    assert json.loads((result.run_dir / "config.json").read_text())["methods"] == ["truncate", "none"]

    again = run(config, progress=False)  # resumed: nothing left to do, same summary
    assert (again.new, again.skipped) == (0, 12)
    assert again.summary == result.summary


def test_fake_llm_reader_run_scores_with_official_metric(longbench_file, fake_openai, tmp_path):
    reader = OpenAIReader(
        "fake", base_url=fake_openai.url, retry=RetryPolicy(base_s=0.001), context_window=4000
    )
    items = load_longbench(longbench_file, tasks=["hotpotqa", "trec"])
    config = RunConfig("longbench", ["truncate"], [0.5], reader=reader.name, out=str(tmp_path / "llm"))
    result = run(config, reader=reader, items=items, progress=False)
    assert result.new == 3 and not result.errors
    rows = {r["id"]: r for r in map(json.loads, (result.run_dir / "results.jsonl").read_text().splitlines())}
    # the fake model echoes the question line: F1 against the gold answer is 0 for hotpotqa
    assert rows["h1"]["prediction"] == "Where was Ada born?" and rows["h1"]["score"] == 0.0
    assert rows["t1"]["prediction"] == "Who wrote Hamlet?"
    assert len(fake_openai.requests) == 3
    assert all(len(b["messages"][0]["content"]) > 0 for b in fake_openai.requests)


def test_failures_are_recorded_apart_and_retried(longbench_file, fake_openai, tmp_path):
    fake_openai.fail_with = [400]  # one non-retryable failure
    reader = OpenAIReader("fake", base_url=fake_openai.url, retry=RetryPolicy(base_s=0.001))
    items = load_longbench(longbench_file, tasks=["trec"])
    config = RunConfig(
        "longbench", ["truncate"], [0.5], reader=reader.name, out=str(tmp_path / "r"), workers=1
    )
    first = run(config, reader=reader, items=items, progress=False)
    assert (first.new, len(first.errors)) == (0, 1)
    assert (first.run_dir / "errors.jsonl").exists()
    second = run(config, reader=reader, items=items, progress=False)
    assert (second.new, second.errors) == (1, [])


def test_zeroscrolls_oracle_run(zeroscrolls_dir, tmp_path):
    config = RunConfig("zeroscrolls", ["truncate"], [0.3], data=str(zeroscrolls_dir), out=str(tmp_path / "z"))
    result = run(config, progress=False)
    assert result.new == 2
    tasks = {s["task"] for s in result.summary}
    assert tasks == {"narrative_qa", "gov_report", "average"}
    assert len(load_zeroscrolls(zeroscrolls_dir)) == 2


def test_two_workers_do_not_lose_items_to_a_racing_lazy_import(longbench_file, tmp_path):
    """Issue 35.11: a method's first use imports lazily; a second worker thread reaching the half-done
    import failed its item (``cannot import name 'AutoTokenizer'``). The run loads methods before threads."""
    lock, loading, loaded, second = threading.Lock(), threading.Event(), threading.Event(), threading.Event()

    class LazyImport(Truncate):
        def compress(self, request):
            with lock:
                first = not loading.is_set()
                loading.set()
            if first:
                if threading.current_thread() is not threading.main_thread():
                    second.wait(5)  # a slow import: the other worker arrives meanwhile
                loaded.set()
            elif not loaded.is_set():  # what a second thread meets while the first is still importing
                second.set()
                raise ImportError("cannot import name 'AutoTokenizer' from 'transformers'")
            return super().compress(request)

    registry.register("lazy-import")(LazyImport)
    try:
        config = RunConfig("longbench", ["lazy-import"], [0.5], data=str(longbench_file), out=str(tmp_path / "run"),
                           workers=2)
        result = run(config, progress=False)
    finally:
        registry._registered.pop("lazy-import", None)
        registry._instances.pop("lazy-import", None)
    assert result.errors == [] and result.new == 4
