import json

import pytest
from sqlmodel import Session, select

from core.models import ChatTurn
from retrieval.answer import (
    NOT_COVERED,
    answer_question,
    check_citations,
    resolve_links,
    stream_answer,
)
from retrieval.confidence import answer_threshold
from retrieval.sentences import tables_as_sentences
from tests.conftest import free_port, make_runtime
from tests.openai_server import FakeOpenAI

pytestmark = pytest.mark.backends


def test_documented_question_is_answered_with_the_right_citation(demo_runtime) -> None:  # type: ignore[no-untyped-def]
    a = answer_question(demo_runtime, "How long does it take for my new card to arrive?", record=False)
    assert a.covered and a.mode == "offline"
    assert a.citations[0].url.startswith("cards/card-delivery.md")
    assert "[1]" in a.answer and a.answer != NOT_COVERED
    assert "This page" not in a.answer, "sentences about the page itself answer nothing"
    assert all(1 <= int(n) <= len(a.citations) for n in __import__("re").findall(r"\[(\d+)\]", a.answer))


def test_undocumented_question_says_so_and_records_the_gap_signal(demo_runtime) -> None:  # type: ignore[no-untyped-def]
    question = "Is there an age limit to open an account, can my 15 year old use it?"
    a = answer_question(demo_runtime, question, account="Brightline Logistics")
    assert not a.covered and a.answer == NOT_COVERED
    assert a.citations, "the closest passages are still shown"
    with Session(demo_runtime.engine) as s:
        turn = s.exec(select(ChatTurn).where(ChatTurn.question == question)).one()
    assert turn.covered is False and turn.account_id is not None and turn.topic_id == a.topic_id


def test_check_citations_drops_invented_numbers() -> None:
    text, dropped = check_citations("Cards arrive in 3 days [1]. Express is £15 [2][7]. See [12].", 3)
    assert dropped == [7, 12]
    assert text == "Cards arrive in 3 days [1]. Express is £15 [2]. See."


def test_llm_path_against_a_real_openai_compatible_server(demo_runtime, openai_server) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime(
        demo_runtime.settings.data_dir,
        demo_runtime.embedder,
        llm_base_url=openai_server.base_url,
        llm_model="test-model",
        llm_api_key="sk-test",
    )
    a = answer_question(rt, "How do I change my PIN?", record=False)
    assert a.mode == "llm"
    assert "[1]" in a.answer and "[9]" not in a.answer and a.dropped_citations == [9]
    req = openai_server.requests[-1]
    assert req["body"]["model"] == "test-model" and req["headers"]["authorization"] == "Bearer sk-test"
    user = req["body"]["messages"][-1]["content"]
    assert "<question>\nHow do I change my PIN?\n</question>" in user and "[1] " in user


def test_pii_never_reaches_the_llm(demo_runtime, openai_server) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime(demo_runtime.settings.data_dir, demo_runtime.embedder, llm_base_url=openai_server.base_url)
    answer_question(
        rt, "My card 4111 1111 1111 1111 is blocked, mail me at sam@acme.com: how do I change my PIN?", record=False
    )
    sent = json.dumps(openai_server.requests[-1]["body"])
    assert "4111" not in sent and "sam@acme.com" not in sent
    assert "[CARD]" in sent and "[EMAIL]" in sent


def test_llm_streaming(demo_runtime, openai_server) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime(demo_runtime.settings.data_dir, demo_runtime.embedder, llm_base_url=openai_server.base_url)
    result, pieces = stream_answer(rt, "How do I change my PIN?")
    streamed = "".join(pieces)
    assert openai_server.requests[-1]["body"]["stream"] is True
    assert len(streamed.split()) > 3 and "[9]" in streamed, "the stream is the model's raw text"
    assert "[9]" not in result.answer and result.dropped_citations == [9] and result.mode == "llm"


def test_llm_failure_falls_back_to_offline(demo_runtime) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime(
        demo_runtime.settings.data_dir,
        demo_runtime.embedder,
        llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
        llm_timeout=2,
    )
    a = answer_question(rt, "How do I change my PIN?", record=False)
    assert a.mode == "offline" and a.covered and "[1]" in a.answer


def _llm_runtime(demo_copy, base_url: str):  # type: ignore[no-untyped-def]
    return make_runtime(demo_copy.settings.data_dir, demo_copy.embedder, llm_base_url=base_url, llm_timeout=5)


def test_the_model_saying_the_passages_do_not_answer_makes_it_a_gap_signal(demo_copy) -> None:  # type: ignore[no-untyped-def]
    question = "How do I change my PIN?"
    offline = answer_question(demo_copy, question, record=False)
    assert offline.covered, "retrieval alone finds the PIN page"
    with FakeOpenAI(reply="NOT_COVERED") as server:
        rt = _llm_runtime(demo_copy, server.base_url)
        a = answer_question(rt, question, account="Brightline Logistics")
    assert a.mode == "llm" and not a.covered and a.answer == NOT_COVERED
    assert a.confidence <= answer_threshold(rt) / 2 < offline.confidence
    assert a.citations, "the closest passages are still shown"
    with Session(rt.engine) as s:
        turn = s.exec(select(ChatTurn).where(ChatTurn.id == a.turn_id)).one()
    assert turn.covered is False and turn.topic_id == a.topic_id is not None


def test_an_answer_whose_citations_are_all_invented_is_not_shown(demo_copy) -> None:  # type: ignore[no-untyped-def]
    with FakeOpenAI(reply="You can change your PIN at any ATM in the world [7].") as server:
        a = answer_question(_llm_runtime(demo_copy, server.base_url), "How do I change my PIN?", record=False)
    assert a.dropped_citations == [7]
    assert not a.covered and a.answer == NOT_COVERED, "an uncited answer is the model's knowledge, not the docs'"


def test_streamed_abstention_and_fallback(demo_copy) -> None:  # type: ignore[no-untyped-def]
    with FakeOpenAI(reply="NOT_COVERED") as server:
        result, pieces = stream_answer(_llm_runtime(demo_copy, server.base_url), "How do I change my PIN?")
        streamed = "".join(pieces)
    assert streamed == NOT_COVERED and not result.covered and result.mode == "llm"
    assert result.turn_id is not None, "a streamed turn is recorded like any other"

    down = _llm_runtime(demo_copy, f"http://127.0.0.1:{free_port()}/v1")
    result, pieces = stream_answer(down, "How do I change my PIN?")
    streamed = "".join(pieces)
    assert result.mode == "offline" and result.covered and streamed == result.answer and "[1]" in streamed


def test_links_in_lifted_sentences_point_from_the_docs_root() -> None:
    page = "cards/pin-management.md#changing-your-pin"
    assert resolve_links("see [Delivery](card-delivery.md).", page) == "see [Delivery](cards/card-delivery.md)."
    assert resolve_links("[up](../top-ups/limits.md#daily)", page) == "[up](top-ups/limits.md#daily)"
    assert resolve_links("[here](#resetting)", page) == "[here](cards/pin-management.md#resetting)"
    assert resolve_links("[site](https://status.example.com)", page) == "[site](https://status.example.com)"
    crawled = "https://docs.example.com/cards/pin.html"
    assert resolve_links("[fees](../fees.html)", crawled) == "[fees](https://docs.example.com/fees.html)"


def test_table_rows_read_as_sentences_that_name_their_columns() -> None:
    text = (
        "Delivery times:\n\n| Delivery | To a UK address | Price |\n|---|:---:|---|\n"
        "| Standard | 3–5 working days | Free |\n| Express | Next working day | |\n\nAfter the table."
    )
    assert tables_as_sentences(text).split("\n") == [
        "Delivery times:",
        "",
        "Standard — To a UK address: 3–5 working days; Price: Free.",
        "Express — To a UK address: Next working day.",
        "",
        "After the table.",
    ]
    assert tables_as_sentences("a | b is not a table\n| nor | this |") == "a | b is not a table\n| nor | this |"


def test_offline_answers_quote_table_rows_and_keep_bold_whole(demo_runtime) -> None:  # type: ignore[no-untyped-def]
    fee = answer_question(demo_runtime, "How much does express delivery cost?", record=False)
    assert "Express delivery — Price: £15." in fee.answer
    for question in ("What are the fees for international transfers?", "My card was stolen, what do I do?"):
        a = answer_question(demo_runtime, question, record=False)
        assert a.covered and a.answer.count("**") % 2 == 0, a.answer
        assert "**" in a.answer, "these answers quote sentences with bold menu paths and labels"
