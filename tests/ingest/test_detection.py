import csv
import re
from pathlib import Path

from demo.build import CHATTER
from ingest import detection
from ingest.detection import automated_kind, chatter_kind, chatter_kinds, detect_languages, rule_verdict
from ingest.store import MAX_TEXT_CHARS
from ingest.tabular import ColumnMap, read_csv
from tests.conftest import NOW
from usecases.pipeline import import_questions

BENCH = Path(__file__).parents[2] / "bench" / "data"


def test_chat_keeps_questions_requests_commands_and_terse_problem_statements_in_several_languages() -> None:
    kept = [
        "alarm settings",
        "turn down volume",
        "show me my alarms",
        "wake up time",
        "card not working",
        "need the march invoice",
        "My card still hasn't arrived",
        "Please send me last month's statement",
        "Hi team, export to csv",
        "ok, alarm settings",
        "Thanks, but the payment still failed",
        "FYI the invoices page has been broken since this morning",
        "Reminder: please send us the March invoice",
        "Is there a fee for ATM withdrawals",
        "Great circle distance in SQL",
        "Welcome screen in WPF",
        "Thank you page in Magento",
        "https://app.example.com/invoices/42",
        "Ma carte est bloquée depuis hier",
        "¿Dónde está mi tarjeta?",
        "Meine Überweisung ist nicht angekommen",
        "Kontoauszug März",
        "factura de marzo",
        "fattura di marzo",
    ]
    dropped = {
        "Thanks so much!": "pleasantry",
        "+1": "reaction",
        "👍🎉": "reaction",
        "<@U123ABC> :+1:": "reaction",
        "Merci beaucoup pour votre aide !": "pleasantry",
        "FYI we're out on Friday": "announcement",
        "OOO until the 12th": "announcement",
        "Happy Friday everyone 🎉": "pleasantry",
        "ok": "acknowledgement",
        "Never mind, found it.": "acknowledgement",
        "Vielen Dank für die schnelle Hilfe!": "pleasantry",
        "Hola, ¿qué tal?": "pleasantry",
        "Buen fin de semana a todos": "pleasantry",
    }
    kinds = chatter_kinds(kept + list(dropped))
    assert dict(zip(kept, kinds[: len(kept)], strict=True)) == dict.fromkeys(kept)
    assert dict(zip(dropped, kinds[len(kept) :], strict=True)) == dropped
    assert chatter_kind("thanks!") == "pleasantry", "one message is the same call as a batch of one"


def test_the_rules_leave_what_they_cannot_tell_to_the_model_and_the_model_keeps_requests() -> None:
    assert rule_verdict("Super, hat geklappt")[0] == "unsure"
    assert rule_verdict("set an alarm for 7")[0] == "keep", "a command is a request"
    assert rule_verdict("are you open on sundays")[0] == "keep"
    unsure_requests = ["invoice template with logo", "Rechnungsvorlage mit Logo", "SSO with okta"]
    assert all(rule_verdict(t)[0] == "unsure" for t in unsure_requests)
    assert chatter_kinds(unsure_requests) == [None, None, None]
    assert chatter_kinds(["Super, hat geklappt", "Tutto ok ora, grazie mille"]) != [None, None]


def test_detection_on_the_demo_labelled_messages(demo_sources: Path) -> None:
    rows = list(csv.DictReader((demo_sources / "truth.csv").open(encoding="utf-8")))
    predicted = [k is None for k in chatter_kinds([r["text"] for r in rows])]
    actual = [r["intent"] != CHATTER for r in rows]
    tp = sum(p and a for p, a in zip(predicted, actual, strict=True))
    precision = tp / sum(predicted)
    recall = tp / sum(actual)
    assert precision >= 0.98 and recall >= 0.99, (precision, recall)
    foreign = [r for r in rows if r["language"] != "en" and r["intent"] != CHATTER]
    assert len(foreign) >= 25
    langs = detect_languages([r["text"] for r in foreign])
    assert sum(g == r["language"] for g, r in zip(langs, foreign, strict=True)) >= 0.9 * len(foreign)
    assert detect_languages(["PIN?"]) == [None], "too short to tell"


def test_the_detector_copies_none_of_the_chatter_it_is_measured_on() -> None:
    """Its word lists are written from general knowledge; the benchmark's messages are not in them verbatim.

    Set phrases of up to four words ("bye for now", "pas de souci") are in any chat lexicon; a sentence of five or
    more words found in the source would have been copied.
    """
    source = Path(detection.__file__).read_text(encoding="utf-8").lower()
    words = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
    for name in ("chatter.csv", "chatter_heldout2.csv"):
        for row in csv.DictReader((BENCH / "chat_chatter" / name).open(encoding="utf-8")):
            phrase = " ".join(words.findall(row["text"].lower()))
            if len(phrase.split()) >= 5:
                assert phrase not in source, (name, row["text"])


def test_auto_replies_and_bounces_need_explicit_markers() -> None:
    assert automated_kind("Automatic reply: Invoice 4411", "I am away until Monday.") == "auto-reply"
    assert automated_kind("RE: Out of Office: Re: renewal", "back soon") == "auto-reply"
    assert automated_kind(None, "This is an automated reply. Your message has been received.") == "auto-reply"
    assert automated_kind("Réponse automatique : facture", "Je suis absente.") == "auto-reply"
    assert automated_kind("Undeliverable: Payment reminder", "") == "bounce"
    assert automated_kind(None, "This is the mail system at host mx.example.com.") == "bounce"
    assert automated_kind("Unzustellbar: Rechnung", "") == "bounce"
    assert automated_kind(None, "I'm out of the office next week, can you approve invoice 4411 before?") is None
    assert automated_kind("Out of office hours support?", "Do you answer on weekends?") is None
    assert automated_kind("My email bounced", "Your message wasn't delivered to anna@ – what does that mean?") is None


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

    from core.models import Question

    result = import_questions(fresh_runtime, read_csv(src, ColumnMap("text", "id"), NOW))
    assert (result.added, result.skipped) == (3, 0), "a CSV row is a request: even a thank-you is stored"
    assert len(result.errors) == 1 and result.errors[0].record == "3" and "exceeds" in result.errors[0].message
    with Session(fresh_runtime.engine) as s:
        q = {x.external_id: x for x in s.exec(select(Question)).all()}
    assert q["1"].text == "My card [CARD] was declined, call me on [PHONE]"
    assert q["1"].redactions == {"card": 1, "phone": 1}
    assert (q["1"].language, q["2"].language) == ("en", "fr")
