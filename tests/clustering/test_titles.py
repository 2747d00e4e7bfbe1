"""Question-form topic titles from an LLM (a real local HTTP server speaking the OpenAI protocol)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from clustering.curation import set_status
from clustering.service import update_topics
from clustering.titles import clean_title, representative_question
from core.models import Topic
from core.runtime import Runtime
from tests.conftest import make_runtime
from tests.openai_server import FakeOpenAI


def _topics(rt: Runtime) -> list[Topic]:
    with Session(rt.engine) as s:
        return list(s.exec(select(Topic).where(col(Topic.active).is_(True)).order_by(col(Topic.id))).all())


def test_llm_titles_are_questions_asked_once_and_never_over_a_rename(demo_copy: Runtime) -> None:
    renamed = _topics(demo_copy)[0]
    set_status(demo_copy, renamed.id, "triaged", label="Card delivery times")  # type: ignore[arg-type]
    with FakeOpenAI() as server:
        rt = make_runtime(demo_copy.settings.data_dir, demo_copy.embedder, llm_base_url=server.base_url)
        update_topics(rt)
        titled = [t for t in _topics(rt) if t.id != renamed.id]
        assert len(server.requests) == len(titled)
        prompt = server.requests[0]["body"]["messages"][1]["content"]
        assert "<question>" in prompt and "Keywords:" in prompt
        for t in titled:
            assert t.label_source == "llm" and t.label == f"How do I sort out {t.keywords[0]}?"
            assert t.label_basis == t.keywords[:3]
        assert next(t for t in _topics(rt) if t.id == renamed.id).label == "Card delivery times"

        update_topics(rt)  # nothing changed: no topic is re-titled
        assert len(server.requests) == len(titled)


def test_a_reply_that_is_not_a_short_question_keeps_a_real_question_as_title(demo_copy: Runtime) -> None:
    with FakeOpenAI(reply="Sure! Here are some ideas for a title for this topic of customer questions.") as server:
        rt = make_runtime(demo_copy.settings.data_dir, demo_copy.embedder, llm_base_url=server.base_url)
        update_topics(rt)
        assert server.requests
    topics = [t for t in _topics(rt) if t.examples and not t.label_locked]
    assert topics and all(t.label_source == "question" and _from_examples(t) for t in topics)


def _from_examples(t: Topic) -> bool:
    """The title is one of the topic's examples, or the start of one cut at a word with an ellipsis."""
    return t.label in t.examples or (t.label.endswith(" …") and any(e.startswith(t.label[:-2]) for e in t.examples))


def test_offline_titles_are_the_topics_own_questions(demo_copy: Runtime) -> None:
    """Without an LLM a topic is titled by its most central short real question, not a keyword string."""
    topics = [t for t in _topics(demo_copy) if t.examples and not t.label_locked]
    assert topics
    for t in topics:
        assert t.label_source == "question", t.label
        assert _from_examples(t), (t.label, t.examples)
        assert len(t.label.split()) <= 13
    asked = [t for t in topics if t.label.rstrip().endswith("?")]
    assert len(asked) >= len(topics) // 2, "most demo topics have a question-form example, and it is preferred"


def test_representative_question() -> None:
    central_first = [
        "my card still hasn't arrived and I ordered it three weeks ago, what should I be doing about it now",
        "card not arrived",
        "When will my card arrive?",
    ]
    assert representative_question(central_first) == "When will my card arrive?"
    assert representative_question(central_first[:2]) == "card not arrived"
    cut = representative_question(central_first[:1])
    assert cut is not None and cut.endswith(" …") and len(cut.split()) == 13
    assert representative_question([]) is None


def test_clean_title() -> None:
    assert clean_title('Title: "How do I reset my PIN?"\nBecause…') == "How do I reset my PIN?"
    assert clean_title("**Why was my transfer declined?**") == "Why was my transfer declined?"
    assert clean_title("Card delivery") is None
    assert clean_title("Why " + "very " * 20 + "long?") is None
    assert clean_title("") is None


def test_an_answer_never_titles_its_topic_with_a_customers_question(demo_copy: Runtime) -> None:
    """The offline title is one customer's question; an answer (which may go back to any customer) names the topic
    by its keywords instead, whoever asks."""
    from clustering.labels import keyword_label
    from core.models import Account
    from retrieval.answer import answer_question

    with Session(demo_copy.engine) as s:
        names = s.exec(select(Account.name)).all()
        topic = s.exec(select(Topic).where(col(Topic.active).is_(True), Topic.label_source == "question")).first()
    assert topic is not None
    for account in (names[0], names[1], None):
        asked = answer_question(demo_copy, topic.label, account=account, record=False)
        assert asked.topic_id == topic.id
        assert asked.topic_label == keyword_label(topic.keywords) != topic.label
