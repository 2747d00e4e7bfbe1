from datetime import date

from reports.weekly import build_weekly_report, render_markdown
from tests.conftest import make_runtime


def test_weekly_report_offline(demo_runtime) -> None:  # type: ignore[no-untyped-def]
    r = build_weekly_report(demo_runtime, date(2026, 11, 18))
    assert r.week_start == date(2026, 11, 16) and r.mode == "offline"
    assert r.total > 30 and r.top_topics and r.top_gaps
    assert r.top_topics[0].count >= r.top_topics[-1].count
    md = render_markdown(r)
    assert md.startswith("# Recurring questions — week of 2026-11-16 to 2026-11-22")
    assert "written offline" in md and "## Biggest documentation gaps" in md
    rising = [a.account for a in r.rising_accounts]
    assert rising[0] == "Brightline Logistics" and len(rising) <= 2, r.rising_accounts
    brightline = r.rising_accounts[0]
    assert sum(brightline.focus_weekly[-4:]) > sum(brightline.focus_weekly[:4]) and brightline.focus_growth >= 1
    assert "**Brightline Logistics**: questions on" in md and "## New and growing topics" in md
    assert all(t.trend in ("new", "growing") for t in r.new_topics)


def test_weekly_report_summary_from_the_llm(demo_runtime, openai_server) -> None:  # type: ignore[no-untyped-def]
    openai_server.reply = "Volume rose this week; cards dominated."
    rt = make_runtime(demo_runtime.settings.data_dir, demo_runtime.embedder, llm_base_url=openai_server.base_url)
    r = build_weekly_report(rt, date(2026, 11, 18))
    assert r.mode == "llm" and r.summary == "Volume rose this week; cards dominated."
    prompt = openai_server.requests[-1]["body"]["messages"][-1]["content"]
    assert f"Questions this week: {r.total}" in prompt
    assert "written by the configured LLM" in render_markdown(r)


def test_empty_week_is_explained(fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    md = render_markdown(build_weekly_report(fresh_runtime, date(2026, 11, 18)))
    assert "No questions were asked this week." in md and "0 questions" in md
