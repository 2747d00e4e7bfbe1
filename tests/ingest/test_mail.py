import mailbox
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import Session, select

from core.models import Account, Question
from ingest.mail import read_email
from ingest.records import IngestError, QuestionRecord
from usecases.pipeline import import_questions


def _mail(
    mid: str, sender: str, subject: str, body: str, date: str, parent: str | None = None, html: bool = False
) -> EmailMessage:
    m = EmailMessage()
    m["Message-ID"], m["From"], m["To"], m["Subject"], m["Date"] = mid, sender, "support@fernpay.com", subject, date
    if parent:
        m["In-Reply-To"], m["References"] = parent, parent
    if html:
        m.set_content(body, subtype="html")
    else:
        m.set_content(body)
    return m


def _thread() -> list[EmailMessage]:
    return [
        _mail(
            "<q1@acme.com>",
            "Sam Reed <sam@acme.com>",
            "Card declined",
            "Hi team,\n\nWhy was my card declined at the airport?\n\nThanks,\nSam",
            "Mon, 02 Nov 2026 09:00:00 +0000",
        ),
        _mail(
            "<a1@fernpay.com>",
            "Ellie <ellie@fernpay.com>",
            "Re: Card declined",
            "It was a fraud check; it's unblocked now.",
            "Mon, 02 Nov 2026 11:00:00 +0000",
            "<q1@acme.com>",
        ),
        _mail(
            "<q2@acme.com>",
            "sam@acme.com",
            "Re: Card declined",
            "Still declined.\n\nOn Mon, 2 Nov 2026 Ellie wrote:\n> It was a fraud check",
            "Tue, 03 Nov 2026 08:00:00 +0000",
            "<a1@fernpay.com>",
        ),
        _mail(
            "<h1@globex.io>",
            "pat@globex.io",
            "PIN",
            "<html><body><p>How do I <b>change my PIN</b>?</p><script>x()</script></body></html>",
            "Wed, 04 Nov 2026 10:00:00 +0100",
            html=True,
        ),
        _mail(
            "<n1@fernpay.com>", "news@fernpay.com", "Our new plans", "Announcement", "Thu, 05 Nov 2026 10:00:00 +0000"
        ),
    ]


def test_mbox_threads_into_questions_with_staff_answers(tmp_path: Path) -> None:
    box = mailbox.mbox(str(tmp_path / "support.mbox"))
    for m in _thread():
        box.add(m)
    box.flush()
    records = {
        r.external_id: r
        for r in read_email(tmp_path / "support.mbox", ["fernpay.com"])
        if isinstance(r, QuestionRecord)
    }
    assert set(records) == {"<q1@acme.com>", "<h1@globex.io>"}, "replies and staff-only threads are not questions"
    q = records["<q1@acme.com>"]
    assert q.subject == "Card declined" and "airport" in q.text
    assert q.staff_answer == "It was a fraud check; it's unblocked now."
    assert len(q.follow_ups) == 1 and q.follow_ups[0].startswith("Still declined")
    assert q.hint.email_domain == "acme.com"
    html = records["<h1@globex.io>"]
    assert "change my PIN" in html.text and "<b>" not in html.text and "x()" not in html.text
    assert html.created_at.hour == 9, "dates are stored as UTC"


def test_eml_folder_bad_message_and_idempotent_import(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "inbox"
    folder.mkdir()
    for i, m in enumerate(_thread()):
        (folder / f"{i}.eml").write_bytes(bytes(m))
    (folder / "broken.eml").write_bytes(b"From: someone@acme.com\nSubject: no id\n\nhello there, is this a question?")
    with Session(fresh_runtime.engine) as s:
        s.add(Account(name="Acme", domains=["acme.com"]))
        s.commit()
    first = import_questions(fresh_runtime, read_email(folder, ["fernpay.com"]))
    assert first.added == 2
    assert [e.file.endswith("broken.eml") and "Message-ID" in e.message for e in first.errors] == [True]
    again = import_questions(fresh_runtime, read_email(folder, ["fernpay.com"]))
    assert again.added == 0 and again.unchanged == 2
    with Session(fresh_runtime.engine) as s:
        q = s.exec(select(Question).where(Question.external_id == "<q1@acme.com>")).one()
        acme = s.exec(select(Account).where(Account.name == "Acme")).one()
    assert q.account_id == acme.id
    # Greeting and signature stripped; the subject says nothing the body doesn't, so it is not repeated.
    assert q.text == "Why was my card declined at the airport?"
    assert q.follow_ups == ["Still declined."], "quoted history stripped"


def test_unreadable_mbox_entries_do_not_stop_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "x.mbox"
    path.write_bytes(
        b"From MAILER Mon Nov  2 09:00:00 2026\nFrom: a@acme.com\n\nno headers to speak of\n\n"
        + b"From x\n"
        + bytes(_thread()[0])
        + b"\n"
    )
    items = list(read_email(path))
    assert any(isinstance(i, QuestionRecord) for i in items)
    assert any(isinstance(i, IngestError) and "message 1" in i.record for i in items)
