import pytest

from compressor.tokens import available_encodings, count_many, count_tokens, encoding_for_model, get_encoding


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "p50k_base"])
def test_shipped_encodings_work_offline(name):
    enc = get_encoding(name)
    assert enc.decode(enc.encode_ordinary("Condenser keeps the answer.")) == "Condenser keeps the answer."
    assert count_tokens("hello world", name) == 2


def test_missing_encoding_names_itself():
    with pytest.raises(LookupError, match="r50k_base"):
        get_encoding("r50k_base")


def test_encoding_for_model():
    assert encoding_for_model("gpt-4o") == "o200k_base"
    assert encoding_for_model("gpt-4") == "cl100k_base"
    assert encoding_for_model("some-unknown-llm") == "cl100k_base"


def test_count_many_matches_single_counts():
    texts = ["a b c", "", "Der Zug fährt um 05:12 ab.", "東京は大きい。"]
    assert count_many(texts) == [count_tokens(t) for t in texts]
    assert set(available_encodings()) == {"cl100k_base", "o200k_base", "p50k_base"}
