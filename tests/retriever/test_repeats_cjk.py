"""Issue 32.5: repeats of any length and in Chinese cost the budget once; CJK text is cut only at sentence
boundaries (。！？； and line breaks)."""

from compressor import compress, count_tokens
from retriever.repeats import SeenText
from retriever.sentences import sentence_offsets

CAT = "The cat sat on the mat."
ZH = ["北京是中国的首都。", "上海是中国最大的城市。", "深圳在一九八零年成为经济特区。", "广州是广东省的省会。",
      "杭州以西湖闻名。", "成都是四川省的省会。"]
ZH_LINES = ["北京是中国的首都", "上海是中国最大的城市，也是重要的金融中心", "深圳在一九八零年成为经济特区",
            "广州是广东省的省会，历史悠久", "杭州以西湖闻名于世", "成都是四川省的省会，以美食著称"]


def test_a_short_sentence_said_three_times_is_kept_once():
    text = f"{CAT} {CAT} {CAT} Dogs bark at night and the neighbours complain about the noise every week."
    result = compress(text, "Where did the cat sit?", target_tokens=count_tokens(text) - 2)
    assert result.text.count(CAT) == 1
    assert "Dogs bark" in result.text  # the budget the copies freed is spent on new text


def test_a_short_repeated_sentence_is_a_repeat_of_any_length():
    seen = SeenText(20)
    seen.add(CAT, 0, len(CAT))
    assert seen.novel(CAT, 0, len(CAT)) == []
    assert seen.novel("The cat sat.", 0, 12) == [(0, 12)]  # other words: new text


def test_title_lines_are_kept_each_time():
    seen = SeenText(20)
    seen.add("Arcade Fire", 0, 11)
    assert seen.novel("Arcade Fire", 0, 11) == [(0, 11)]  # no sentence end: a label for what follows


def test_a_chinese_sentence_said_twice_is_kept_once():
    text = "".join(ZH[:2] + ZH[:1] + ZH[2:])
    target = count_tokens(text) - count_tokens(ZH[0]) + 2  # every sentence once, not the copy too
    result = compress(text, "北京是哪个国家的首都？", target_tokens=target)
    assert result.text == "".join(ZH)


def test_chinese_split_by_lines_ends_on_a_whole_line():
    text = "\n".join(ZH_LINES) + "\n"
    total = count_tokens(text)
    for target in range(8, total, 7):
        result = compress(text, "深圳什么时候成为经济特区？", target_tokens=target)
        assert result.compressed_tokens <= target
        assert all(line in ZH_LINES for line in result.text.splitlines() if line), result.text


def test_chinese_sentences_are_never_cut_inside():
    text = "".join(ZH)
    for target in range(6, count_tokens(text), 9):
        result = compress(text, "深圳什么时候成为经济特区？", target_tokens=target)
        kept = [result.text[s:e] for s, e in sentence_offsets(result.text)]
        assert all(sentence in ZH for sentence in kept), result.text


def test_cjk_sentence_ends_and_closing_quotes():
    text = "上海是中国最大的城市；深圳是经济特区！他说：“好。”然后走了。"
    assert [text[s:e] for s, e in sentence_offsets(text)] == [
        "上海是中国最大的城市；", "深圳是经济特区！", "他说：“好。”", "然后走了。"]
