from ingest.normalize import author_hash, clean_text, email_domain


def test_strips_greeting_signature_and_quoted_reply() -> None:
    raw = (
        "Hi team,\n\nMy card was declined at the supermarket twice today, why?\n\nKind regards,\nSam\nAcme Ltd\n"
        "On Mon, 3 Nov 2026 Fernpay Support wrote:\n> Thanks for reaching out"
    )
    assert clean_text(raw) == "My card was declined at the supermarket twice today, why?"


def test_keeps_short_messages_and_quoted_lines_removed() -> None:
    assert clean_text("Hello?") == "Hello?"
    assert clean_text("> old text\nIs my transfer pending?") == "Is my transfer pending?"


def test_follow_ups_that_add_nothing_are_chatter() -> None:
    from ingest.store import is_chatter

    assert is_chatter("Thanks!") and is_chatter("+1") and is_chatter("   ") and is_chatter("Works now, cheers")
    assert not is_chatter("Thanks, but my card still doesn't work")
    assert not is_chatter("Still declined.")


def test_author_hash_is_stable_and_not_the_address() -> None:
    h = author_hash("Sam@Example.com ")
    assert h == author_hash("sam@example.com") and h and "example" not in h
    assert email_domain("Sam <sam@Example.com>") == "example.com"


def test_subject_is_kept_only_when_it_adds_something() -> None:
    from ingest.store import with_subject

    assert with_subject("Card declined", "Why was my card declined?") == "Why was my card declined?"
    assert (
        with_subject("I am still waiting on my ca...", "I am still waiting on my card?")
        == "I am still waiting on my card?"
    )
    assert (
        with_subject("Urgent: travel", "My card was declined in Spain")
        == "Urgent: travel\nMy card was declined in Spain"
    )
    assert with_subject("PIN", "") == "PIN"


def test_inline_greetings_leave_the_question_whole() -> None:
    assert clean_text("Hi team, why was my card declined at the airport?") == "why was my card declined at the airport?"
    assert clean_text("Hello, why was my transfer returned?") == "why was my transfer returned?"
    assert clean_text("Dear Fernpay support,\nMy PIN is blocked.") == "My PIN is blocked."
    assert clean_text("Hi there I need help with my card") == "Hi there I need help with my card"
    assert clean_text("Hey can I order a second card?") == "Hey can I order a second card?"
