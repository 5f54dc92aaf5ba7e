"""The multi-passage QA sets of the retention benchmarks, on a tiny MuSiQue file of our own."""

import gzip
import json

from compressor.training.splits import is_dev
from evals.qa_sets import is_dev_item, load

ROWS = [{"id": f"m-{i}", "question": f"Where was person {i} born?", "answers": [f"Town{i}"],
         "ctxs": [{"title": "", "text": f"person {i} was born in town{i} by the river."}]} for i in range(12)]


def _data(tmp_path):
    (tmp_path / "musique").mkdir()
    with gzip.open(tmp_path / "musique" / "musique_s.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in ROWS)
    return tmp_path


def test_musique_long_follows_each_context_with_the_next_and_keeps_musique_s_split(tmp_path):
    data = _data(tmp_path)
    short, long = load("musique", data), load("musique-long", data)
    assert [x.id for x in long] == [x.id for x in short] and len(long) == 12
    assert long[0].context == f"{short[0].context}\n\n{short[1].context}"
    assert long[-1].context.endswith(short[0].context)  # the last wraps round to the first
    assert [is_dev_item("musique-long", x) for x in long] == [is_dev("musique", x.id) for x in short]
