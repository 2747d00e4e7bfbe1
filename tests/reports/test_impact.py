"""Doc impact: a writer marks a gap documented with the page that answers it, and the topic page and the weekly
report show its weekly volume before and after.

The demo's data ends on 2026-11-22 and its clock reads 2026-11-24; the writer's move is made with the clock set to
Wednesday 2026-11-18 (inside the reported week) and the page dated back to 2026-10-14 through the use case. Every
expected figure is counted here from the database file with plain SQL, not through the code under test.
"""

from __future__ import annotations

import html
import re
import sqlite3
from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session

from clustering.curation import CurationError
from core.models import Topic
from core.runtime import Runtime
from reports.impact import describe, measure_impact, topic_impact
from reports.weekly import build_weekly_report, render_markdown, save_report
from tests.conftest import NOW, WEB_USERS, LiveServer, form_token, logged_in
from usecases.permissions import user_actor
from usecases.topics import change_topic, topic_page

WRITER = user_actor("wes", "docs_writer")
MOVED = datetime(2026, 11, 18, 10, 0)
"""When the writer marks the topics, inside the reported week of 2026-11-16."""
SHIPPED = date(2026, 10, 14)
"""The day the page shipped, a Wednesday: its week (from 2026-10-12) is split and left out."""
WEEK = date(2026, 11, 16)


def counts(rt: Runtime, topic_id: int, start: date, weeks: int) -> list[int]:
    """Questions per Monday-to-Sunday week from `start`, read with plain SQL."""
    with sqlite3.connect(rt.settings.data_dir / "docgap.sqlite3") as db:
        return [
            db.execute(
                "SELECT count(*) FROM question WHERE topic_id = ? AND created_at >= ? AND created_at < ?",
                (topic_id, (start + timedelta(weeks=k)).isoformat(), (start + timedelta(weeks=k + 1)).isoformat()),
            ).fetchone()[0]
            for k in range(weeks)
        ]


def total(rt: Runtime, start: date) -> int:
    with sqlite3.connect(rt.settings.data_dir / "docgap.sqlite3") as db:
        return db.execute(
            "SELECT count(*) FROM question WHERE created_at >= ? AND created_at < ?",
            (start.isoformat(), (start + timedelta(days=7)).isoformat()),
        ).fetchone()[0]


def gap_with_history(rt: Runtime, exclude: frozenset[int] = frozenset()) -> tuple[int, str]:
    """An open gap topic with questions in the four weeks before the shipping week, and a page offered for it."""
    with sqlite3.connect(rt.settings.data_dir / "docgap.sqlite3") as db:
        ids = [r[0] for r in db.execute(
            "SELECT id FROM topic WHERE active AND gap_kind IS NOT NULL AND status = 'new' ORDER BY gap_score DESC"
        )]  # fmt: skip
    for tid in ids:
        if tid not in exclude and sum(counts(rt, tid, date(2026, 9, 14), 4)) >= 3:
            page = topic_page(rt, tid)
            assert page is not None and page.doc_choices
            return tid, page.doc_choices[0]
    raise AssertionError("no demo gap has questions before 2026-10-12")


def pct(now: int, before: int) -> str:
    change = round(100 * (now - before) / before)
    return f"down {-change}%" if change < 0 else f"up {change}%" if change > 0 else "unchanged"


def test_weeks_compared_are_equal_full_weeks_on_each_side() -> None:
    shipped = datetime(2026, 10, 14, 15, 0)  # a Wednesday
    asked = [datetime(2026, 10, 5, 9) + timedelta(days=7 * k, hours=h) for k in range(-4, 6) for h in range(k + 6)]
    # Two full weeks have ended since the shipping week by Tuesday 2026-11-03 (the week of 11-02 is under way).
    before, after = measure_impact(asked, shipped, datetime(2026, 11, 3, 12))
    assert [w.isoformat() for w, _ in before] == ["2026-09-28", "2026-10-05"]
    assert [w.isoformat() for w, _ in after] == ["2026-10-19", "2026-10-26"]
    assert [n for _, n in before] == [5, 6] and [n for _, n in after] == [8, 9], "the shipping week (7) is left out"
    impact = describe(1, "t", shipped, None, before, after)
    assert impact.change_pct == round(100 * (17 - 11) / 11)
    assert impact.sentence == (
        f"up {impact.change_pct}% in the 2 weeks since (11 questions in the 2 weeks before, 17 in the 2 weeks since)"
    )
    # Four weeks at most each side, however long ago it shipped.
    before, after = measure_impact(asked, shipped, datetime(2027, 1, 1))
    assert len(before) == len(after) == 4 and before[-1][0] == date(2026, 10, 5) and after[0][0] == date(2026, 10, 19)


def test_less_than_a_full_week_since_is_too_early_to_tell() -> None:
    shipped = datetime(2026, 11, 16, 9)
    asked = [datetime(2026, 11, 10), datetime(2026, 11, 17), datetime(2026, 11, 22, 23)]
    before, after = measure_impact(asked, shipped, datetime(2026, 11, 23, 8))  # the first full week since is under way
    assert after == [] and len(before) == 4 and sum(n for _, n in before) == 1
    impact = describe(7, "t", shipped, "a.md", before, after)
    assert impact.change_pct is None and impact.verdict == "too early to tell"
    assert impact.sentence.startswith("too early to tell: documented on 2026-11-16")
    before, after = measure_impact(asked, shipped, datetime(2026, 11, 30))
    assert [n for _, n in after] == [0] and [n for _, n in before] == [1], "one full week later: one week each side"


def test_marking_documented_records_the_page_and_the_report_shows_what_changed(
    web_users: dict[str, tuple[str, str]],
    demo_copy: Runtime,
) -> None:
    rt = demo_copy
    documented, page_url = gap_with_history(rt)
    closed_now, _ = gap_with_history(rt, frozenset({documented}))
    reopened, _ = gap_with_history(rt, frozenset({documented, closed_now}))
    rt.clock = lambda: MOVED
    change_topic(rt, WRITER, documented, "documented", doc_url=f"/kb/{page_url}", documented_on=SHIPPED)
    change_topic(rt, WRITER, closed_now, "in_progress")
    change_topic(rt, WRITER, closed_now, "verified")
    change_topic(rt, WRITER, reopened, "documented", doc_url="https://help.example.com/x")
    change_topic(rt, WRITER, reopened, "triaged")  # moved back: not closed, and no longer measured
    rt.clock = lambda: NOW
    with Session(rt.engine) as s:
        t = s.get(Topic, documented)
        assert t and t.documented_url == page_url and t.documented_at == datetime(2026, 10, 14)
        back = s.get(Topic, reopened)
        assert back and back.documented_at is None and back.documented_url is None

    before = counts(rt, documented, date(2026, 9, 14), 4)  # the four weeks before the week of 2026-10-12
    after = counts(rt, documented, date(2026, 10, 19), 4)  # four full weeks since, by the report's end (11-23)
    expected = f"{pct(sum(after), sum(before))} in the 4 weeks since"
    impact = topic_page(rt, documented).impact  # type: ignore[union-attr]
    assert impact is not None and impact.verdict == expected
    assert [n for _, n in impact.before] == before and [n for _, n in impact.after] == after

    report = build_weekly_report(rt, date(2026, 11, 18))
    md = render_markdown(report)
    this, last = total(rt, WEEK), total(rt, WEEK - timedelta(days=7))
    change = round(100 * (this - last) / last)
    sign = f"+{change}%" if change > 0 else f"−{-change}%" if change < 0 else "±0%"
    assert f"## Week over week\nQuestions: {this} this week, {last} last week ({sign})." in md
    top = report.top_topics[0]
    t_now, t_last = counts(rt, top.id, WEEK, 1)[0], counts(rt, top.id, WEEK - timedelta(days=7), 1)[0]
    assert (top.count, top.previous) == (t_now, t_last)
    closed = section(md, "Gaps closed this week")
    assert f"#{documented} " in closed and f"#{closed_now} " in closed and f"#{reopened} " not in closed
    assert "marked documented on 2026-11-18" in closed and "(shipped 2026-10-14)" in closed
    assert "marked verified on 2026-11-18" in closed
    impact_md = section(md, "Doc impact")
    row = next(line for line in impact_md.splitlines() if line.startswith(f"| #{documented} ")).split(" | ")
    assert row[1] == "2026-10-14" and row[2].replace("\\", "") == page_url, row
    assert row[3:5] == [" ".join(map(str, before)), " ".join(map(str, after))] and row[5].startswith(f"{expected} (")
    assert f"#{reopened} " not in impact_md
    assert all(g.id not in {documented, closed_now} for g in report.top_gaps), "closed gaps are not open gaps"
    assert "closed this week" in report.summary and expected in report.summary

    save_report(rt, report)
    with LiveServer(rt) as server, logged_in(server.url, *WEB_USERS["docs_writer"]) as (client, _):
        topic = html.unescape(client.get(f"/topics/{documented}").text)
        shown = html.unescape(client.get(f"/reports/weekly/{WEEK.isoformat()}").text)
        archive = client.get("/reports").text
    doc_card = topic[topic.index('id="doc-impact"') :]
    assert f"Questions {impact.sentence}." in doc_card and "Documented on <b>2026-10-14</b>" in doc_card
    assert f'href="/kb/{page_url}"' in doc_card
    cells = re.findall(r'<td class="r">(?:<b>)?(\d+)', doc_card.split("</table>")[0])
    assert [int(c) for c in cells] == before + after
    assert "<h2>Week over week</h2>" in shown and "<h2>Gaps closed this week</h2>" in shown
    assert f"{expected} (" in shown and f'<a href="/topics/{documented}">#{documented}</a>' in shown
    assert "2</b> gaps closed" in shown
    assert f"{sign}</td>" in archive


def section(md: str, title: str) -> str:
    return md.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_topic_form_takes_the_page_and_refuses_what_is_not_one(
    web_users: dict[str, tuple[str, str]],
    api_headers: dict[str, str],
    demo_copy: Runtime,
) -> None:
    rt = demo_copy
    tid, page_url = gap_with_history(rt)
    other, _ = gap_with_history(rt, frozenset({tid}))
    with LiveServer(rt) as server, logged_in(server.url, *WEB_USERS["docs_writer"]) as (client, _):
        api = f"{server.url}/v1/topics/{other}/status"
        refused = httpx.post(api, json={"status": "verified", "doc_url": "ftp://x"}, headers=api_headers, timeout=30)
        assert refused.status_code == 409, refused.text
        body = {"status": "verified", "doc_url": "https://help.example.com/a", "documented_on": "2026-10-01"}
        assert httpx.post(api, json=body, headers=api_headers, timeout=30).status_code == 200
        page = client.get(f"/topics/{tid}").text
        assert 'name="doc_url"' in page and 'name="documented_on"' in page
        assert f'<option value="{html.escape(page_url)}">' in page, "the closest pages are offered"
        token = form_token(page)

        def post(**data: str) -> int:
            form = {"csrf_token": token, "status": "documented", **data}
            return client.post(f"/topics/{tid}/status", data=form).status_code

        assert post(doc_url="no-such-page.md") == 422
        assert post(doc_url="javascript:alert(1)") == 422
        assert post(documented_on=(NOW.date() + timedelta(days=1)).isoformat()) == 422
        assert post(status="in_progress", doc_url=page_url) == 422
        with Session(rt.engine) as s:
            t = s.get(Topic, tid)
            assert t and t.status == "new" and t.documented_at is None, "a refused form changes nothing"
        assert post(doc_url=f"/kb/{page_url}", documented_on="2026-10-14") == 303
        shown = html.unescape(client.get(f"/topics/{tid}").text)
    with Session(rt.engine) as s:
        t = s.get(Topic, tid)
        assert t and (t.status, t.documented_url, t.documented_at) == ("documented", page_url, datetime(2026, 10, 14))
    assert "<h2>Doc impact</h2>" in shown and f"answered by {page_url}, shipped 2026-10-14" in shown
    assert topic_impact(rt, other).documented_on == "2026-10-01"  # type: ignore[union-attr]
    with Session(rt.engine) as s:
        t = s.get(Topic, other)
        assert t and (t.status, t.documented_url) == ("verified", "https://help.example.com/a")


def test_the_use_case_refuses_a_page_for_an_open_status(demo_copy: Runtime) -> None:
    tid, page_url = gap_with_history(demo_copy)
    with pytest.raises(CurationError, match="documented or verified"):
        change_topic(demo_copy, WRITER, tid, "triaged", doc_url=page_url)
