"""Sentences as a reader sees them, and offline answers on a real manual that read as prose."""

from __future__ import annotations

import re
from pathlib import Path

from bench.leave_gold_out import manual_set
from core.embedding import SentenceTransformerEmbedder
from retrieval.answer import answer_question
from retrieval.index import index_documents
from retrieval.sentences import sentences, units
from tests.conftest import make_runtime

MANUAL_LINES = (
    "Bixby guide\nYou can learn the voice commands that let you use\nBixby\nin various situations. Use the "
    "directional buttons to move\nto the desired command, and then press the Select button."
)


def test_soft_wrapped_lines_are_one_sentence() -> None:
    assert [s for _, s in sentences(MANUAL_LINES)] == [
        "Bixby guide You can learn the voice commands that let you use Bixby in various situations.",
        "Use the directional buttons to move to the desired command, and then press the Select button.",
    ]


def test_blocks_stay_apart() -> None:
    text = (
        "# Delivery\nIntro that wraps\nonto a second line.\n\n- **Express:** tracked by courier.\n- Standard post is "
        "not tracked.\n1. Check the address\n   under Cards.\n\n| Kind | Price |\n|---|---|\n| Express | £15 |\n"
        "| Standard | Free |"
    )
    assert units(text) == [
        "# Delivery",
        "Intro that wraps onto a second line.",
        "- **Express:** tracked by courier.",
        "- Standard post is not tracked.",
        "1. Check the address under Cards.",
        "| Kind | Price |",
        "|---|---|",
        "| Express | £15 |",
        "| Standard | Free |",
    ]
    found = [s for _, s in sentences(text)]
    assert "Intro that wraps onto a second line." in found and "Check the address under Cards." in found
    assert "**Express:** tracked by courier." in found, "list markers cut, bold kept whole"


def test_a_menu_path_on_lines_of_its_own_is_not_glued_to_the_sentence_after_it() -> None:
    text = (
        "Settings\nPicture\nPicture Mode\nTry Now\nYou can select the\nPicture Mode\nthat provides the best viewing "
        "experience.\nIf you are signed out of your Samsung account, select\nSign In\nto log in."
    )
    assert [s for _, s in sentences(text)] == [
        "You can select the Picture Mode that provides the best viewing experience.",
        "If you are signed out of your Samsung account, select Sign In to log in.",
    ]
    assert units(text)[:4] == ["Settings", "Picture", "Picture Mode", "Try Now"]  # kept as units, never quoted


def test_capitalised_words_inside_wrapped_prose_do_not_split_it() -> None:
    text = "Press the button on the Samsung\nSmart Remote to start, then go to the\nSamsung Account\nscreen."
    assert units(text) == [
        "Press the button on the Samsung Smart Remote to start, then go to the Samsung Account screen."
    ]


def test_offline_answer_on_the_smart_tv_manual_reads_as_prose(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """Issue 9: a fragment cut mid-sentence, and one sentence quoted twice from two near-identical sections."""
    manual = manual_set()
    bixby = [p for p in manual.pages if "bixby" in p.title.lower()]
    assert len(bixby) >= 6 and len({p.title for p in bixby}) < len(bixby), "the manual repeats its Bixby sections"
    rt = make_runtime(tmp_path / "data", embedder)
    assert index_documents(rt, "manual", bixby).ok
    a = answer_question(rt, "Can I use Bixby voice commands with this TV?", record=False)
    quoted = [s.strip() for s in re.split(r"\s*\[\d+\]\s*", a.answer) if s.strip()]
    assert a.covered and len(quoted) >= 2, a.answer
    assert len(set(quoted)) == len(quoted), f"a sentence quoted twice: {a.answer}"
    assert all(s[-1] in ".!?:)" for s in quoted), f"a fragment cut mid-sentence: {a.answer}"
    assert "that let you use [" not in a.answer
