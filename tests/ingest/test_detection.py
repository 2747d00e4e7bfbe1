import csv
from pathlib import Path

from demo.build import CHATTER
from docgap.pipeline import import_questions
from ingest.detection import detect_languages, is_question
from ingest.store import MAX_TEXT_CHARS
from ingest.tabular import ColumnMap, read_csv
from tests.conftest import NOW


def test_questions_requests_and_problem_reports_in_several_languages() -> None:
    for text in [
        "My card still hasn't arrived",
        "Please send me last month's statement",
        "Ma carte est bloquée depuis hier",
        "¿Dónde está mi tarjeta?",
        "Meine Überweisung ist nicht angekommen",
        "Thanks, but the payment still failed",
        "Is there a fee for ATM withdrawals",
    ]:
        assert is_question(text), text
    for text in [
        "Thanks so much!",
        "+1",
        "Merci beaucoup pour votre aide !",
        "FYI we're out on Friday",
        "Happy Friday everyone 🎉",
        "ok",
        "Vielen Dank für die schnelle Hilfe!",
    ]:
        assert not is_question(text), text


def test_detection_on_the_demo_labelled_messages(demo_sources: Path) -> None:
    rows = list(csv.DictReader((demo_sources / "truth.csv").open(encoding="utf-8")))
    predicted = [is_question(r["text"]) for r in rows]
    actual = [r["intent"] != CHATTER for r in rows]
    tp = sum(p and a for p, a in zip(predicted, actual, strict=True))
    precision = tp / sum(predicted)
    recall = tp / sum(actual)
    assert precision >= 0.98 and recall >= 0.98, (precision, recall)
    foreign = [r for r in rows if r["language"] != "en" and r["intent"] != CHATTER]
    assert len(foreign) >= 25
    langs = detect_languages([r["text"] for r in foreign])
    assert sum(g == r["language"] for g, r in zip(langs, foreign, strict=True)) >= 0.9 * len(foreign)
    assert detect_languages(["PIN?"]) == [None], "too short to tell"


def test_redaction_language_and_oversized_messages_on_import(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "q.csv"
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerow(["1", "My card 4111 1111 1111 1111 was declined, call me on +44 20 7946 0321"])
        w.writerow(["2", "Pourquoi mon virement vers mon fournisseur est-il toujours en attente ?"])
        w.writerow(["3", "Why was I charged twice? " + "x" * MAX_TEXT_CHARS])
        w.writerow(["4", "Thanks so much!"])
    from sqlmodel import Session, select

    from docgap.models import Question

    result = import_questions(fresh_runtime, read_csv(src, ColumnMap("text", "id"), NOW))
    assert (result.added, result.skipped) == (2, 1)
    assert len(result.errors) == 1 and result.errors[0].record == "3" and "exceeds" in result.errors[0].message
    with Session(fresh_runtime.engine) as s:
        q = {x.external_id: x for x in s.exec(select(Question)).all()}
    assert q["1"].text == "My card [CARD] was declined, call me on [PHONE]"
    assert q["1"].redactions == {"card": 1, "phone": 1}
    assert (q["1"].language, q["2"].language) == ("en", "fr")
