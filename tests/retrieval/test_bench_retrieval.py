"""The retrieval benchmark's scoring: a hit is any passage of the labelled page."""

from bench.retrieval import Query, metrics, verdict

PAGE_OF = {1: "a.md", 2: "a.md", 3: "b.md", 4: "c.md", 5: "a.md"}


def test_page_level_reads_a_ranking_as_the_pages_it_reaches() -> None:
    q = Query("how?", "intent", "c.md")
    by_passage = metrics([[1, 2, 3, 4]], [q], PAGE_OF)
    by_page = metrics([[1, 2, 3, 4]], [q], PAGE_OF, by_page=True)
    assert by_passage["MRR"] == 0.25 and by_page["MRR"] == 1 / 3
    assert by_passage["R@1"] == by_page["R@1"] == 0.0
    assert by_passage["R@5"] == by_page["R@5"] == 1.0


def test_rankings_are_cut_at_ten() -> None:
    q = Query("how?", "intent", "c.md")
    eleven = [1] * 10 + [4]
    assert metrics([eleven], [q], PAGE_OF) == {"R@1": 0.0, "R@5": 0.0, "R@10": 0.0, "MRR": 0.0}
    assert metrics([eleven], [q], PAGE_OF, by_page=True)["R@5"] == 1.0, "one page's ten passages are one page"


def test_verdict_needs_a_strict_win_on_every_figure() -> None:
    base = {"R@1": 0.5, "R@5": 0.8, "R@10": 0.9, "MRR": 0.6}
    rows = {"dense only": base, "lexical only (BM25)": {k: v - 0.1 for k, v in base.items()}}
    assert verdict({**rows, "fused": {k: v + 0.01 for k, v in base.items()}}, "fused") == "yes"
    assert verdict({**rows, "fused": {**base, "R@1": 0.6}}, "fused").startswith("no (ties or loses: R@5 vs dense")
