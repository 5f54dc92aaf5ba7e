"""The cross-validated protocol (evals.protocol) on a tiny data folder and fake compressors: no models."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from compressor.training.splits import is_dev
from evals import protocol
from evals.protocol_data import (
    FOLDS,
    Item,
    Pool,
    build_pool,
    contains,
    fold_of,
    joined,
    load_all,
)


def words(text: str) -> int:
    return len(text.split())


def _ids(dataset: str, dev: bool, n: int, prefix: str = "q") -> list[str]:
    """The first ``n`` ids ``prefix0, prefix1, ...`` that are (or are not) in the dev split of ``dataset``."""
    out, i = [], 0
    while len(out) < n:
        if is_dev(dataset, f"{prefix}{i}") == dev:
            out.append(f"{prefix}{i}")
        i += 1
    return out


def _gz(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Three held-out and three trained-on items per source; one held-out HotpotQA item lacks its answer."""
    held, trained = _ids("hotpotqa", True, 3), _ids("hotpotqa", False, 3)
    hotpot = [{"_id": i, "question": f"Where is {i}?", "answer": f"city{i}",
               "context": [[f"Title {i}", [f"{i} is in city{i}. ", "Filler words here."]]]} for i in held + trained]
    hotpot[0]["answer"] = "nowhere-to-be-found"
    _gz(tmp_path / "hotpotqa" / "distractor.jsonl.gz", hotpot)
    mus = [{"id": i, "question": f"Who made {i}?", "answers": [f"maker{i}"],
            "ctxs": [{"title": f"T{i}", "text": f"{i} was made by maker{i}. " + "pad " * 30}]}
           for i in _ids("musique", True, 3) + _ids("musique", False, 3)]
    _gz(tmp_path / "musique" / "musique_s.jsonl.gz", mus)
    nq_rows = [{"question": f"nq question {i}", "answers": [f"ans{i}"],
                "ctxs": [{"title": f"Doc {i}", "text": f"The answer is ans{i}."}]} for i in range(12)]
    _gz(tmp_path / "nq" / "nq-open-oracle.jsonl.gz", nq_rows)
    qas = [{"id": i, "question": f"What about {i}?", "is_impossible": False,
            "answers": [{"text": f"fact{i}", "answer_start": 0}]} for i in _ids("squad2", True, 2)]
    qas += [{"id": "impossible", "question": "?", "is_impossible": True, "answers": []}]
    paras = [{"context": " ".join(f"fact{q['id']}" for q in qas), "qas": qas}, {"context": "Other text.", "qas": []}]
    (tmp_path / "squad2").mkdir()
    with gzip.open(tmp_path / "squad2" / "dev-v2.0.json.gz", "wt", encoding="utf-8") as f:
        json.dump({"data": [{"title": "A", "paragraphs": paras}]}, f)
    _gz(tmp_path / "longbench" / "minilongbench.jsonl.gz", [
        {"_id": "qasper-0", "dataset": "qasper", "input": "q?", "context": "the gold is here", "answers": ["gold"]},
        {"_id": "gov_report-0", "dataset": "gov_report", "input": "", "context": "x", "answers": ["x"]}])
    return tmp_path


def test_folds_are_spread_over_held_out_items():
    # is_dev hashes the same key mod 5: an unsalted fold would put every held-out item in one fold
    folds = {fold_of("hotpotqa", i) for i in _ids("hotpotqa", True, 60)}
    assert folds == set(range(FOLDS))


def test_contains_is_the_official_substring_rule():
    assert contains("Born in 1924, the Painter.", ["1924"])
    assert contains("born in 1924", ["24"])  # substring, not whole words: the shared tool's rule
    assert contains("The Beatles", ["beatles"])
    assert not contains("nothing here", ["answer", ""])


def test_contains_agrees_with_the_shared_tool():
    tool = Path(__file__).resolve().parents[3] / "shared" / "tools" / "retention.py"
    if not tool.exists():
        pytest.skip("../shared/tools/retention.py not present")
    import importlib.util

    spec = importlib.util.spec_from_file_location("shared_retention", tool)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cases = [("Ünïcode Café, the end.", ["cafe"]), ("An apple a day", ["apple day"]), ("x-ray", ["xray"]),
             ("1924", ["24"]), ("Paris", ["London"])]
    assert [contains(t, a) for t, a in cases] == [mod.contains(t, a) for t, a in cases]


def test_pool_excludes_trained_items_and_counts_them(data: Path):
    pool = build_pool(load_all(data, words), per_source=0)
    assert pool.excluded["hotpotqa"] == 3 and pool.eligible["hotpotqa"] == 2  # one held-out item unanswerable
    assert pool.excluded["musique"] == 3 and pool.eligible["musique"] == 3
    assert pool.excluded["longbench-qa"] == 0 and [x.id for x in pool.items["longbench-qa"]] == ["qasper-0"]
    assert len(pool.items["squad2"]) == 2  # the unanswerable question is not an item
    assert all(is_dev("nq", x.id.removeprefix("nq-")) for x in pool.items["nq"])
    for items in pool.items.values():
        assert not any(x.trained for x in items)


def test_nq_distractors_come_from_held_out_rows_only(data: Path):
    items = load_all(data, words, sources=("nq",))["nq"]
    trained_answers = {f"ans{i}" for i in range(12) if not is_dev("nq", str(i))}
    for x in items:
        if not x.trained:
            assert not any(a in x.context for a in trained_answers)
            assert x.answers[0] in x.context


def test_long_inputs_reach_the_length_and_hold_their_own_context(data: Path):
    base = load_all(data, words, sources=("musique",))["musique"]
    long = joined(base, "musique-long", words, tokens=80)
    for item, made in zip(base, long):
        assert made.source == "musique-long"
        if item.trained:
            assert made.trained and made.context == item.context
            continue
        assert item.context in made.context and words(made.context) >= 80
        for other in base:
            if other.trained:
                assert other.context not in made.context  # never padded with trained-on text
    assert long == joined(base, "musique-long", words, tokens=80)  # deterministic


def test_sampling_is_seeded_and_capped(data: Path):
    loaded = load_all(data, words)
    a, b = build_pool(loaded, per_source=2, seed=1), build_pool(loaded, per_source=2, seed=1)
    assert all(len(v) <= 2 for v in a.items.values())
    assert {k: [x.id for x in v] for k, v in a.items.items()} == {k: [x.id for x in v] for k, v in b.items.items()}


def _pool(n: int = 10) -> Pool:
    items = [Item("s", f"i{k}", "q", f"answer{k} " + "filler " * 20, [f"answer{k}"]) for k in range(n)]
    return Pool({"s": items}, {"s": 0}, {"s": n})


def test_run_appends_per_item_and_resumes(tmp_path: Path):
    calls = []

    def head(context: str, question: str, budget: int) -> str:
        calls.append(budget)
        return " ".join(context.split()[:budget]), min(budget, words(context))

    path = tmp_path / "r.jsonl"
    fakes = {"condenser": head, "truncate": lambda c, q, b: calls.append(b) or ("", b + 2)}
    protocol.run(_pool(4), ["condenser", "truncate"], path, words, progress=False, compressors=fakes)
    lines = path.read_text().splitlines()
    assert len(lines) == 8 and len(calls) == 24  # 4 items x 2 rows x 3 factors
    first = json.loads(lines[0])
    assert first["kept"] == {"3x": True, "5x": True, "10x": True} and first["fold"] == fold_of("s", "i0")
    path.write_text("\n".join(lines[:5]) + '\n{"cut by a kil')  # a killed run
    protocol.run(_pool(4), ["condenser", "truncate"], path, words, progress=False, compressors=fakes)
    results = protocol.read_results(path)
    assert len(results) == 8 and len(calls) == 24 + 3 * 3  # only the 3 missing item-rows ran again
    assert results[("s", "i3", "truncate")]["over"] == {"3x": 2, "5x": 2, "10x": 2}
    assert results[("s", "i3", "condenser")]["over"] == {}
    summ = protocol.summary(results, _pool(4), ["condenser", "truncate"])
    assert summ["over_budget"] == {"condenser": 0, "truncate": 12}


def test_summary_pairs_rows_against_the_default(tmp_path: Path):
    pool = _pool(10)
    results = {}
    for k, item in enumerate(pool.items["s"]):
        for row, kept in (("condenser", k < 8), ("truncate", k < 3)):
            results[("s", item.id, row)] = {"kept": {"3x": kept, "5x": kept, "10x": kept}}
    summ = protocol.summary(results, pool, ["truncate", "condenser"])
    cell = summ["cells"]["pooled"]["truncate"]["5x"]
    assert cell["recall"] == 30.0 and cell["vs_default"]["wins"] == 0 and cell["vs_default"]["losses"] == 5
    assert cell["vs_default"]["p"] == pytest.approx(0.0625)
    assert cell["interval"][0] < 30.0 < cell["interval"][1]
    assert "vs_default" not in summ["cells"]["s"]["condenser"]["3x"]
    table = protocol.markdown(summ, ["truncate", "condenser"])
    assert "30.0 [" in table and "-50.0 (0/5, p 0.06)" in table


def test_unfinished_items_are_left_out_of_every_row():
    pool = _pool(3)
    results = {("s", x.id, "condenser"): {"kept": {"3x": True, "5x": True, "10x": True}} for x in pool.items["s"]}
    results.pop(("s", "i2", "condenser"))
    results[("s", "i0", "no-coarse")] = {"kept": {"3x": False, "5x": False, "10x": False}}
    done = protocol.complete_pool(results, pool, ["condenser"])
    assert [x.id for x in done.items["s"]] == ["i0", "i1"]
    assert protocol.complete_pool(results, pool, ["condenser", "no-coarse"]).items["s"][0].id == "i0"


def test_coarse_cost_reports_default_minus_whole():
    pool = _pool(4)
    results = {}
    for k, x in enumerate(pool.items["s"]):
        results[("s", x.id, "condenser")] = {"kept": {"3x": True, "5x": k < 2, "10x": k < 1}}
        results[("s", x.id, "no-coarse")] = {"kept": {"3x": True, "5x": True, "10x": k < 1}}
    text = protocol.coarse_cost(protocol.summary(results, pool, ["condenser", "no-coarse"]))
    assert "| s | 100.0 / 100.0: +0.0 (p 1.00) | 50.0 / 100.0: +50.0 (p 0.50) | 25.0 / 25.0: +0.0" in text


def test_cross_validated_choice_never_sees_the_scored_fold():
    pool = _pool(60)
    results = {}
    for x in pool.items["s"]:
        # "a" keeps every answer except on fold 0, "b" only on fold 0
        results[("s", x.id, "a")] = {"kept": {"5x": x.fold != 0}}
        results[("s", x.id, "b")] = {"kept": {"5x": x.fold == 0}}
    kept, choices = protocol.cross_validated(results, pool, ["a", "b"], "5x")
    assert choices == ["a"] * FOLDS  # fold 0 is scored with "a", chosen on folds 1-4, and loses there
    assert len(kept) == 60 and sum(kept) == sum(x.fold != 0 for x in pool.items["s"])


def test_cli_rejects_unknown_rows_and_a_missing_default():
    with pytest.raises(SystemExit):
        protocol.main(["--rows", "nope,condenser"])
    with pytest.raises(SystemExit):
        protocol.main(["--rows", "truncate"])


def test_standard_rows_reuse_the_embedded_eval_settings():
    from evals.embedded_model_eval import ROWS as EMBEDDED

    assert protocol.ROWS["condenser"].coarse is None and protocol.ROWS["no-coarse"].coarse is False
    assert protocol.ROWS["cosine"].options == EMBEDDED["cosine"][2] == {"dense_weight": 1.0}
    assert all(r in protocol.ROWS for r in protocol.STANDARD_ROWS)


def test_choice_table_scores_each_fold_with_a_row_chosen_elsewhere():
    pool = _pool(60)
    results = {}
    for x in pool.items["s"]:
        kept = {"3x": True, "5x": x.fold != 0, "10x": False}
        results[("s", x.id, "condenser")] = {"kept": kept}
        results[("s", x.id, "no-coarse")] = {"kept": {"3x": True, "5x": True, "10x": x.fold == 1}}
    table = protocol.choice_table(results, pool, ["condenser", "no-coarse"])
    on_fold0 = sum(x.fold == 0 for x in pool.items["s"])
    # at 5x the default loses fold 0 only: fold 0 itself is scored with the row chosen on folds 1-4, where
    # the two tie (the default, listed first, stays), so the choice cannot rescue what only fold 0 shows
    expected = 100.0 * (60 - on_fold0) / 60
    assert f"| 5x | condenser, {', '.join(['no-coarse'] * (FOLDS - 1))} | {expected:.1f} [" in table
    assert table.splitlines()[5].endswith("| 0/0, p 1.00 |")
    # at 10x "no-coarse" wins only on fold 1: there it is chosen on folds 0, 2-4, where it ties, so the
    # default stays (listed first); elsewhere fold 1's wins make it the choice and it keeps nothing
    assert "| 10x | no-coarse, condenser, no-coarse, no-coarse, no-coarse | 0.0 [" in table


def test_reranker_rows_are_parsed_and_register_their_run(monkeypatch, tmp_path: Path):
    from retriever import rerank

    monkeypatch.setattr(protocol, "RERANKER_RUNS", tmp_path)
    monkeypatch.setattr(rerank, "RERANKERS", dict(rerank.RERANKERS))
    row = protocol.row_for("rerank:v1+int8:30:0.3:2")
    assert row.options == {"rerank": 30, "rerank_weight": 0.3, "rerank_hops": 2, "rerank_int8": True,
                           "reranker": "run-v1"}
    assert rerank.RERANKERS["run-v1"] == tmp_path / "v1"
    assert protocol.row_for("rerank:shipped:40:0.5").options == {"rerank": 40, "rerank_weight": 0.5,
                                                                  "rerank_hops": 1, "rerank_int8": False}
    assert not protocol.known_row("rerank:v1:30") and not protocol.known_row("rerank:v1:x:0.3")


def test_a_retriever_row_runs_alone_beside_a_scored_default(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(protocol, "RETRIEVER_RUNS", tmp_path)
    (tmp_path / "v2").mkdir()
    assert protocol.known_row("retriever:v2") and not protocol.known_row("retriever:absent")
    with pytest.raises(SystemExit):  # beside another row than the default
        protocol.main(["--rows", "condenser,truncate,retriever:v2"])
