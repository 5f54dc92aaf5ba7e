"""The dev split: deterministic, about one item in five, different per dataset."""

from compressor.training import is_dev


def test_split_is_deterministic_and_about_a_fifth():
    ids = [f"item-{i}" for i in range(5000)]
    first = [is_dev("hotpotqa", i) for i in ids]
    assert first == [is_dev("hotpotqa", i) for i in ids]
    assert 0.17 < sum(first) / len(ids) < 0.23


def test_split_depends_on_the_dataset():
    ids = [str(i) for i in range(500)]
    assert [is_dev("hotpotqa", i) for i in ids] != [is_dev("musique", i) for i in ids]
