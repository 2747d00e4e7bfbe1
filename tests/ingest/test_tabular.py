import csv
from pathlib import Path

from clustering.topics import export_assignments
from docgap.pipeline import analyse, import_questions
from ingest.tabular import ColumnMap, read_csv
from tests.conftest import NOW


def test_csv_with_column_mapping_and_export_contract(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "questions.csv"
    rows = [
        (f"T-{i}", q, "Acme")
        for i, q in enumerate(
            [
                "How do I change my PIN?",
                "Can I change my card PIN in the app?",
                "Where do I reset my PIN number?",
                "How can I set a new PIN?",
                "I want a different PIN, how?",
                "Change PIN please, how does it work?",
                "Why was my transfer declined?",
                "My transfer failed, why?",
                "Transfer declined again, what is wrong?",
                "Why do my transfers keep failing?",
                "The bank transfer I sent was declined",
                "Transfer rejected, why?",
            ]
            * 1
        )
    ]
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket", "body", "company"])
        w.writerows(rows)
        w.writerow(["T-bad", "", "Acme"])
    result = import_questions(fresh_runtime, read_csv(src, ColumnMap("body", "ticket", "company"), NOW))
    assert result.added == len(rows)
    assert len(result.errors) == 1 and "line 14" in result.errors[0].record
    analyse(fresh_runtime)
    out = tmp_path / "assignments.csv"
    assert export_assignments(fresh_runtime, out) == len(rows)
    exported = list(csv.reader(out.open()))
    assert exported[0] == ["question_id", "topic_id", "topic_label"]
    assert {r[0] for r in exported[1:]} == {r[0] for r in rows}
    by_id = {r[0]: r[1] for r in exported[1:]}
    assert by_id["T-0"] and by_id["T-0"] == by_id["T-1"], "PIN questions share a topic"
    assert by_id["T-6"] and by_id["T-6"] != by_id["T-0"], "transfer questions are another topic"


def test_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    src.write_text("a,b\n1,2\n")
    items = list(read_csv(src, ColumnMap("text"), NOW))
    assert len(items) == 1 and "missing column" in str(items[0]) and "text" in str(items[0])
