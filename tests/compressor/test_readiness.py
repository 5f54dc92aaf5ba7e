"""Method readiness: which methods can run here, what the others need, and the service's 424 for them."""

from __future__ import annotations

import httpx
import pytest

from compressor.readiness import (
    CHECKPOINT_METHODS,
    MethodNotReady,
    all_statuses,
    default_checkpoint,
    describe,
    method_status,
    require_ready,
)

GATED_ORGS = {"google", "meta-llama", "mistralai"}  # hub organisations whose models ask for a licence first


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """An empty Hugging Face cache: no third-party checkpoint is there."""
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    return tmp_path / "hf" / "hub"


def cache_repo(hub, repo: str, files=("config.json", "model.safetensors")) -> None:
    """Lay ``repo`` out in ``hub`` the way huggingface_hub caches a download (refs/main -> snapshot)."""
    root = hub / ("models--" + repo.replace("/", "--"))
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text("0" * 40)
    snapshot = root / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for name in files:
        (snapshot / name).write_text("{}")


def checkpoint_folder(path, files=("config.json", "model.safetensors")):
    path.mkdir()
    for name in files:
        (path / name).write_text("{}")
    return path


def test_embedded_methods_are_ready_and_checkpoint_methods_name_what_they_need(empty_hub):
    statuses = {s.name: s for s in all_statuses()}
    assert set(CHECKPOINT_METHODS) | {"condenser", "truncate"} <= statuses.keys()
    assert statuses["condenser"].ready and statuses["truncate"].ready
    assert all(s.description for s in statuses.values())
    for name in CHECKPOINT_METHODS:
        ready, detail = method_status(name)
        checkpoint = default_checkpoint(name)
        assert not ready and checkpoint and statuses[name].checkpoint == checkpoint
        assert f"needs checkpoint {checkpoint}" in detail and f"hf download {checkpoint}" in detail
        assert "model_path=" in detail and "HF_HOME" in detail and str(empty_hub) in detail
        with pytest.raises(MethodNotReady, match=f"^method {name} is not ready: needs checkpoint"):
            require_ready(name)


def test_a_cached_download_or_a_folder_makes_a_method_ready(empty_hub, tmp_path):
    repo = default_checkpoint("llmlingua2")
    cache_repo(empty_hub, repo, files=("config.json",))  # config without weights: an interrupted download
    assert not method_status("llmlingua2")[0]
    cache_repo(empty_hub, default_checkpoint("provence"))
    provence = default_checkpoint("provence")
    assert method_status("provence") == (True, f"checkpoint {provence} (in the Hugging Face cache)")
    folder = checkpoint_folder(tmp_path / "exit-model")
    assert method_status("exit", str(folder)) == (True, f"checkpoint folder {folder}")
    half = checkpoint_folder(tmp_path / "half", files=("config.json",))
    ready, detail = method_status("exit", str(half))
    assert not ready and "lacks config.json or weights" in detail
    assert not method_status("exit", str(tmp_path / "missing"))[0]
    require_ready("exit", str(folder))  # no error


def test_exit_default_checkpoint_needs_no_gated_licence():
    checkpoint = default_checkpoint("exit")
    assert checkpoint and checkpoint.split("/")[0] not in GATED_ORGS


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        describe("nope")


@pytest.fixture
def service(empty_hub, tmp_path):
    pytest.importorskip("fastapi")
    from api.app import create_app
    from api.settings import Settings
    from tests.condenser.live_server import serve

    extra = {}
    if "checkpoints" in Settings.model_fields:  # operators name the checkpoints the service may load
        extra["checkpoints"] = {"provence": str(checkpoint_folder(tmp_path / "provence"))}
    with serve(create_app(Settings(redis_url=None, _env_file=None, **extra))) as url:
        yield url, bool(extra)


def test_methods_endpoint_says_which_are_ready(service):
    url, configured = service
    body = httpx.get(f"{url}/v1/methods").json()
    assert "llmlingua2" in body["methods"] and body["default"] == "condenser"
    details = {d["name"]: d for d in body["details"]}
    assert details["condenser"]["ready"] and not details["llmlingua2"]["ready"]
    assert "needs checkpoint microsoft/llmlingua-2" in details["llmlingua2"]["detail"]
    if configured:
        assert details["provence"]["ready"] and "checkpoint folder" in details["provence"]["detail"]


def test_compressing_with_a_method_that_is_not_ready_is_424_naming_the_method(service):
    url, _ = service
    got = httpx.post(f"{url}/v1/compress", json={"context": "Some text. " * 50, "method": "llmlingua2"})
    assert got.status_code == 424
    error = got.json()["error"]
    assert error["param"] == "method" and error["type"] == "method_not_ready"
    assert error["message"].startswith("method llmlingua2 is not ready: needs checkpoint microsoft/llmlingua-2")

    batch = httpx.post(f"{url}/v1/compress/batch", json={"items": [
        {"context": "Some text. " * 50, "method": "exit"},
        {"context": "Some text. " * 50, "method": "truncate", "rate": 0.5}]}).json()["results"]
    assert batch[0]["error"]["param"] == "items.0.method" and "method exit is not ready" in \
        batch[0]["error"]["message"]
    assert batch[1]["method"] == "truncate" and batch[1]["compressed_tokens"] <= 0.5 * batch[1]["original_tokens"]


@pytest.mark.browser
def test_playground_offers_only_ready_methods(service):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download)")
    from tests.api.test_playground_browser import CHROMIUM, FLAGS

    if not CHROMIUM:
        pytest.skip("no Chromium binary: apt-get install -y chromium (make system-deps)")
    url, _ = service
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{url}/playground/")
            page.wait_for_selector("#method option[value=llmlingua2]", state="attached")
            options = page.eval_on_selector_all("#method option", "els => els.map(e => [e.value, e.disabled, e.title])")
        finally:
            browser.close()
    state = {value: (disabled, title) for value, disabled, title in options}
    assert not state["condenser"][0] and not state["truncate"][0]
    assert state["llmlingua2"][0] and "needs checkpoint microsoft/llmlingua-2" in state["llmlingua2"][1]
    assert state["exit"][0]
    enabled = [value for value, disabled, _ in options if not disabled]
    ready = {d["name"] for d in httpx.get(f"{url}/v1/methods").json()["details"] if d["ready"]}
    assert set(enabled) == ready and {"cfic", "condenser", "extractive", "retrieve", "truncate"} <= ready
