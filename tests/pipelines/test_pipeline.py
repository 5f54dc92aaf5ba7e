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
