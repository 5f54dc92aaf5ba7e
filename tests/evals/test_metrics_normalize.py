"""The normalisation rules behind the QA metrics."""

from evals.metrics.normalize import jieba_cut, normalize_answer, normalize_zeroscrolls, normalize_zh_answer


def test_english_normalisation():
    assert normalize_answer("The  Quick, brown fox!") == "quick brown fox"
    assert normalize_answer("an apple-pie") == "applepie"  # punctuation removed before articles


def test_chinese_normalisation_drops_punctuation_and_spaces():
    assert normalize_zh_answer("北京，是 首都。ABC") == "北京是首都abc"


def test_zeroscrolls_normalisation_transliterates():
    assert normalize_zeroscrolls("Über Café") == "uber cafe"


def test_jieba_precise_mode():
    assert jieba_cut("北京是中国的首都") == ["北京", "是", "中国", "的", "首都"]
