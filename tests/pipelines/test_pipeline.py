import pytest

from pipelines import Pipeline, PipelineConfig

LONG = " ".join(f"Paragraph {i} sentence about item {i} which costs {i * 3} crowns." for i in range(500))


def test_config_loads_from_yaml_and_toml(tmp_path):
    y = tmp_path / "p.yaml"
    y.write_text("method: extractive\ncoarse:\n  multiple: 3.0\n  page_tokens: 128\n")
    t = tmp_path / "p.toml"
    t.write_text('method = "cfic"\n[coarse]\nenabled = false\n')
    assert PipelineConfig.from_file(y).coarse.multiple == 3.0
    assert PipelineConfig.from_file(t).coarse.enabled is False
    with pytest.raises(ValueError):
        PipelineConfig.from_file(tmp_path / "p.ini")


def test_config_rejects_unknown_keys():
    with pytest.raises(ValueError):
        PipelineConfig.model_validate({"methd": "x"})


def test_long_input_goes_through_coarse_retrieval_first():
    r = Pipeline().run(LONG, "What does item 123 cost?", rate=0.1, method="extractive")
    assert "retrieve" in r.timings and {"chunk", "compress", "fit", "total"} <= set(r.timings)
    assert "item 123 which costs 369" in r.text
    assert r.compressed_tokens <= r.budget


def test_coarse_stage_can_be_switched_off():
    cfg = PipelineConfig(coarse={"enabled": False})
    r = Pipeline(cfg).run(LONG, "item 123", rate=0.1, method="extractive")
    assert "retrieve" not in r.timings
    r2 = Pipeline().run(LONG, "item 123", rate=0.1, method="extractive", coarse=False)
    assert "retrieve" not in r2.timings


def test_default_method_comes_from_config():
    r = Pipeline(PipelineConfig(method="truncate")).run(LONG, rate=0.2)
    assert r.method == "truncate" and LONG.startswith(r.text)


FACTS = [f"{name} was founded in {1800 + 7 * i} by {founder} and is known for its {thing}."
         for i, (name, founder, thing) in enumerate(zip(
             ["Arden", "Blyth", "Corran", "Dunmore", "Elgin", "Fenwick", "Garve", "Hawick", "Irvine",
              "Jedburgh", "Kelso", "Lanark", "Moffat", "Nairn", "Oban", "Peebles"],
             ["a weaver", "two monks", "the Earl of Mar", "a brewer", "fishermen", "a canal company",
              "drovers", "a linen merchant", "the navy", "a bishop", "a shipwright", "miners", "a doctor",
              "a herring curer", "a distiller", "a railway"],
             ["slate roofs", "salmon", "a ruined castle", "its ale", "a lighthouse", "locks", "cattle fairs",
              "tweed", "a shipyard", "an abbey", "a bridge", "a mill", "spa water", "golf", "whisky",
              "a viaduct"]))]
WINDOWS = [" ".join(FACTS[start : start + 8]) for start in (0, 4, 8)]  # each holds half the next


def test_overlapping_chunks_cost_the_budget_once():
    question = "Who founded Hawick?"
    r = Pipeline().run(WINDOWS, question, rate=0.7, method="extractive")
    counts = [r.text.count(fact) for fact in FACTS]
    assert max(counts) == 1 and "Hawick was founded in 1849 by a linen merchant" in r.text
    plain = Pipeline(PipelineConfig(repeat_words=0)).run(WINDOWS, question, rate=0.7, method="extractive")
    plain_counts = [plain.text.count(fact) for fact in FACTS]
    assert max(plain_counts) == 2  # without: the overlap is kept twice,
    assert sum(c > 0 for c in counts) > sum(c > 0 for c in plain_counts)  # so fewer facts fit
    per_call = Pipeline().run(WINDOWS, question, rate=0.7, method="extractive", repeat_words=0)
    assert per_call.text == plain.text  # the per-call option wins over the config
    with pytest.raises(ValueError, match="repeat_words"):
        Pipeline().run(WINDOWS, question, rate=0.7, repeat_words=-1)


def test_truncate_keeps_a_prefix_of_repeating_input():
    doc = "\n\n".join(WINDOWS)
    r = Pipeline().run(doc, rate=0.6, method="truncate")
    assert doc.startswith(r.text)
