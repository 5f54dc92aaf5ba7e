"""Summary aggregation: macro averages, achieved ratio, official ZeroSCROLLS aggregation, buckets, files."""

from evals.runner.summary import markdown, summarize, write_csv


def _row(task, score, orig=100, comp=50, method="m", rate=0.5, bench="longbench", comps=None, length=None):
    return {"benchmark": bench, "task": task, "method": method, "rate": rate, "score": score,
            "original_tokens": orig, "compressed_tokens": comp, "compress_s": 0.01, "reader_s": 0.0,
            "components": comps, "length": length}  # fmt: skip


def test_macro_average_and_token_weighted_ratio():
    rows = [_row("a", 1.0), _row("a", 0.0), _row("b", 1.0, orig=300, comp=50), _row("b", None)]
    summary = summarize(rows)
    cells = {s["task"]: s for s in summary}
    assert cells["a"]["score"] == 50.0 and cells["b"]["score"] == 100.0
    assert (cells["b"]["n"], cells["b"]["scored"]) == (2, 1)  # None scores are not averaged
    assert cells["average"]["score"] == 75.0  # tasks weigh equally
    assert cells["average"]["ratio"] == round(600 / 200, 2)
    assert cells["average"]["compress_ms"] == 10.0


def test_zeroscrolls_rouge_task_uses_geometric_mean_of_means():
    rows = [_row("gov_report", 0.0, bench="zeroscrolls", comps=[0.8, 0.2, 0.5]),
            _row("gov_report", 0.0, bench="zeroscrolls", comps=[0.2, 0.8, 0.5])]  # fmt: skip
    assert summarize(rows)[0]["score"] == 50.0


def test_bucket_columns_and_outputs(tmp_path):
    rows = [
        _row("hotpotqa", 1.0, length=100),
        _row("hotpotqa", 0.0, length=9000),
        _row("x", 1.0, method="n", rate=1.0),
    ]
    summary = summarize(rows, buckets=True)
    assert summary[0]["0-4k"] == 100.0 and summary[0]["8k+"] == 0.0 and "4-8k" not in summary[0]
    write_csv(summary, tmp_path / "s.csv")
    header = (tmp_path / "s.csv").read_text().splitlines()[0]
    assert header.endswith("0-4k,8k+")
    md = markdown(summary, "T")
    assert "| m | 0.5 | 50 | 2 | 10 |" in md and "| n | 1 | 100 |" in md
