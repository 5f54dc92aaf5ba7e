"""The dev eval's per-item recall, with and without the question given to the compressor."""

from evals.embedded_model_eval import recall
from evals.qa_sets import QAItem

FILLER = " ".join(f"The river {w} flows past the river town and the river mill." for w in
                  ("north", "south", "east", "west", "slowly", "quickly", "quietly", "gently"))
ITEM = QAItem(id="t-1", question="Who founded the Zorblax guild?", answers=["Ada Quill"],
              context=f"{FILLER} The Zorblax guild was founded by Ada Quill. {FILLER}")
BM25 = {"dense_weight": 0.0}  # lexical only: no model to load


def test_recall_keeps_the_answer_when_the_question_is_given():
    cell = recall([ITEM], "extractive", BM25, 5.0, False)
    assert cell.kept == [True] and cell.recall == 100.0


def test_recall_without_the_question_compresses_query_agnostically():
    # the answer sentence shares no words with the river sentences, so centrality drops it
    cell = recall([ITEM], "extractive", BM25, 5.0, False, with_query=False)
    assert cell.kept == [False] and cell.seconds >= 0
