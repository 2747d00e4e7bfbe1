"""Long topic labels stay inside their cards, tables and headings, in real Chromium (issue 11).

Topic labels are customer text (a question used as the title, or a writer's rename) and can be any length,
with or without spaces. On the board's cards the label is cut after three lines with an ellipsis, the full label
in the link's title; nothing in a card (its ⋯ menu, the sparkline, the keywords) reaches past the card's edge.
The table layout and the topic page wrap the label instead. Checked on a phone and a laptop width.
Set DOCGAP_SCREENSHOTS=/some/dir to keep the screenshots (`long_label_*.png`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from core.models import Topic
from core.runtime import Runtime
from tests.conftest import CHROMIUM, WEB_USERS, LiveServer

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import Browser, Page

from tests.web.test_pages_browser import log_in

pytestmark = pytest.mark.timeout(180)

SENTENCE = (
    "Why does my virtual card top-up via international bank transfer from a non-SEPA account keep failing with "
    "error code TRANSFER_REJECTED_BY_CORRESPONDENT_BANK_INSUFFICIENT_ROUTING_INFORMATION and what should I do "
    "about the pending balance shown in the app meanwhile"
)
ONE_WORD = "Reactivatingsuspendedcardsafterfraudreviewandidentityverificationfailurewithoutcontactingsupport" * 2
WIDTHS = {"laptop": 1280, "phone": 400}

OVERFLOWS = """() => [...document.querySelectorAll("article.tcard")].flatMap(card => {
  const box = card.getBoundingClientRect();
  return [...card.querySelectorAll("*")].filter(el => el.getClientRects().length > 0).map(el => {
    const r = el.getBoundingClientRect();
    return r.right > box.right + 0.5 || r.left < box.left - 0.5
      ? `${card.id}: <${el.tagName.toLowerCase()} class="${el.className}"> spans `
        + `${Math.round(r.left)}..${Math.round(r.right)}, the card ${Math.round(box.left)}..${Math.round(box.right)}`
      : null;
  }).filter(Boolean);
})"""
TITLE = """(id) => {
  const a = document.querySelector(`#card-${id} a.tcard-title`);
  const style = getComputedStyle(a);
  return {title: a.title, text: a.textContent, height: a.getBoundingClientRect().height,
          line: parseFloat(style.lineHeight), clipped: a.scrollHeight > a.clientHeight + 1,
          ellipsis: style.textOverflow};
}"""
WIDER_THAN_SCREEN = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def long_ids(module_demo: Runtime) -> list[int]:
    """The board's first two gaps, renamed as a writer (or a long customer question) might name them."""
    with Session(module_demo.engine) as s:
        topics = s.exec(
            select(Topic).where(col(Topic.active).is_(True), Topic.status == "new", col(Topic.gap_kind).is_not(None))
            .order_by(col(Topic.gap_score).desc()).limit(2)
        ).all()  # fmt: skip
        for topic, label in zip(topics, (SENTENCE, ONE_WORD), strict=True):
            topic.label = label
            s.add(topic)
        s.commit()
        return [t.id or 0 for t in topics]


def shot(pg: Page, name: str) -> None:
    folder = os.environ.get("DOCGAP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(Path(folder) / f"long_label_{name}.png"), full_page=False)


@pytest.mark.parametrize("device", WIDTHS)
def test_long_labels_stay_inside_the_cards(browser: Browser, module_server: LiveServer, long_ids: list[int],
                                           device: str) -> None:  # fmt: skip
    context = browser.new_context(base_url=module_server.url, viewport={"width": WIDTHS[device], "height": 900})
    try:
        pg = context.new_page()
        log_in(pg, *WEB_USERS["docs_writer"])  # a writer's cards carry the most: tick box, ⋯ menu, move buttons
        pg.goto("/")
        problems = pg.evaluate(OVERFLOWS)
        assert not problems, "\n".join(problems)
        for topic_id, label in zip(long_ids, (SENTENCE, ONE_WORD), strict=True):
            title = pg.evaluate(TITLE, topic_id)
            assert title["title"] == label == title["text"], "the full label is the link's title"
            assert title["clipped"] and title["ellipsis"] == "ellipsis", title
            assert title["height"] <= 3 * title["line"] + 1, f"more than three lines: {title}"
        assert pg.evaluate(WIDER_THAN_SCREEN) <= 0
        pg.locator(f"#card-{long_ids[0]}").scroll_into_view_if_needed()
        shot(pg, f"board_{device}")

        for path in ("/?layout=table", f"/topics/{long_ids[0]}", f"/topics/{long_ids[1]}", f"/?evidence={long_ids[1]}"):
            pg.goto(path)
            assert pg.evaluate(WIDER_THAN_SCREEN) <= 0, f"{path} is wider than a {WIDTHS[device]}px screen"
            assert ONE_WORD[:40] in pg.content() or SENTENCE[:40] in pg.content(), "the label is shown whole there"
            shot(pg, path.strip("/").replace("/", "_").replace("?", "").replace("=", "_") + f"_{device}")
    finally:
        context.close()
