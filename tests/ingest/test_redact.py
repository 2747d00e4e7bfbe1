import csv
import random
import re
import time
from pathlib import Path

import pytest

from bench.redaction import CLINC150, GOALS, changed, load_cases, read_texts, replaced_spans, score
from ingest.redact import Redaction, redact

BANKING77 = Path(__file__).resolve().parents[2] / "demo" / "banking77" / "train.csv"


def _unchanged(text: str) -> None:
    out = redact(text)
    assert out == Redaction(text=text, counts={}), out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please reply to jane.doe+bank@example.co.uk.", "Please reply to [EMAIL]."),
        ("Sent from <SAM_99@mail.example.com>", "Sent from <[EMAIL]>"),
        ("my email is a@b.io, thanks", "my email is [EMAIL], thanks"),
    ],
)
def test_email(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize("text", ["Is @support the right handle?", "Reply to me @ home", "user@localhost is not mail"])
def test_email_negatives(text: str) -> None:
    _unchanged(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call me on +44 20 7946 0321 tomorrow", "Call me on [PHONE] tomorrow"),
        ("US office +1 (415) 555-0100.", "US office [PHONE]."),
        ("ring 020 7946 0321 or 07700 900123", "ring [PHONE] or [PHONE]"),
        ("mobile: 07700900123", "mobile: [PHONE]"),
        ("(415) 555-0100 is my cell", "[PHONE] is my cell"),
        ("dots 415.555.0100 and dashes 1-800-555-0199", "dots [PHONE] and dashes [PHONE]"),
        ("from abroad 0044 20 7946 0321", "from abroad [PHONE]"),
        ("+447700900123", "[PHONE]"),
        ("Paris +33 1 23 45 67 89", "Paris [PHONE]"),
        ("Berlin 030 12345678", "Berlin [PHONE]"),
        ("(my number is 020 7946 0321)", "(my number is [PHONE])"),
    ],
)
def test_phone(text: str, expected: str) -> None:
    out = redact(text)
    assert out.text == expected
    assert set(out.counts) == {"phone"}


@pytest.mark.parametrize(
    "text",
    [
        "I was charged £1,250.00 and then $20 again",
        "The transfer of 1 250 000 000 euros and 1.250.000.000",
        "Payment on 2026-11-03 at 10:30:00, or was it 03/11/2026 14:05?",
        "ticket #52031, ticket 52031, order 123-456",
        "Is the app on version 1.2.3 or 10.4.1?",
        "statements for 2019 2020 2021",
        "reference 1234567890 for the transfer",
        "£125 000 000 loan",
        "sort code 12-34-56 account 12345678",
    ],
)
def test_phone_negatives(text: str) -> None:
    _unchanged(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 was declined", "card [CARD] was declined"),
        ("4111-1111-1111-1111", "[CARD]"),
        ("amex 378282246310005.", "amex [CARD]."),
        ("5555555555554444 cvv 123", "[CARD] cvv 123"),
        ("4111 1111 1111 1111 123", "[CARD] 123"),  # card then CVV in one run of groups
        ("on 2026-11-03 4111 1111 1111 1111", "on 2026-11-03 [CARD]"),
    ],
)
def test_card(text: str, expected: str) -> None:
    out = redact(text)
    assert out.text == expected
    assert out.counts == {"card": 1}


@pytest.mark.parametrize(
    "text",
    ["4111 1111 1111 1112 fails Luhn", "4111111111111112", "1234-5678-9012-3456", "short 4111 1111"],
)
def test_card_negatives(text: str) -> None:
    _unchanged(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN [IBAN] please"),
        ("DE89370400440532013000", "[IBAN]"),
        ("to FR14 2004 1010 0505 0001 3M02 606.", "to [IBAN]."),
        ("NL91ABNA0417164300 THANKS", "[IBAN] THANKS"),
        ("lower gb82west12345698765432", "lower [IBAN]"),
    ],
)
def test_iban(text: str, expected: str) -> None:
    out = redact(text)
    assert out.text == expected
    assert out.counts == {"iban": 1}


@pytest.mark.parametrize(
    "text",
    [
        "GB82 WEST 1234 5698 7654 33",
        "DE89370400440532013001",
        "XX82WEST12345698765432",
        "AB12 is a code",
        "Is NL20 RABO 8765 4321 09 correct?",  # a mistyped IBAN's digits are not a phone number
        "GB12 NWBK 6016 1331 9268 19",  # ... nor a card number
    ],
)
def test_iban_negatives(text: str) -> None:
    _unchanged(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz123456", "key [SECRET]"),
        ("sk_live_51HabcdefghijklmnOP and pk_live_abcdefghij1234", "[SECRET] and [SECRET]"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[SECRET]"),
        ("xoxb-1234567890-abcdefghij", "[SECRET]"),
        ("id AKIAIOSFODNN7EXAMPLE", "id [SECRET]"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc-def_ghi", "jwt [SECRET]"),
        ("Authorization: Bearer abcDEF123456ghiJKL789", "Authorization: Bearer [SECRET]"),
        ("password: hunter22", "password: [SECRET]"),
        ("api_key=abcdef123&x=1", "api_key=[SECRET]&x=1"),
        ('{"token": "Zx9kQa"}', '{"token": "[SECRET]"}'),
        ("client_secret = topsecret.", "client_secret = [SECRET]."),
        ("my PIN: 4821", "my PIN: [SECRET]"),
    ],
)
def test_secret(text: str, expected: str) -> None:
    out = redact(text)
    assert out.text == expected
    assert set(out.counts) == {"secret"}


@pytest.mark.parametrize(
    "text",
    [
        "I forgot my password, how do I reset it?",
        "Token: when will I get it?",
        "Reset password: what are the steps?",
        "Do you support Bearer authentication?",
        "Why do I need a skeleton key?",
        "How many tokens: 3 or 4?",
        "The sk- prefix is documented",
    ],
)
def test_secret_negatives(text: str) -> None:
    _unchanged(text)


def test_bearer_jwt_is_one_secret() -> None:
    out = redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig")
    assert out == Redaction("Authorization: Bearer [SECRET]", {"secret": 1})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login from 192.168.1.10.", "login from [IP]."),
        ("blocked 8.8.8.8 and 255.255.255.255", "blocked [IP] and [IP]"),
        ("v6 2001:db8::1 and fe80::1%eth0", "v6 [IP] and [IP]"),
        ("mapped ::ffff:192.0.2.1", "mapped [IP]"),
        ("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "full [IP]"),
    ],
)
def test_ip(text: str, expected: str) -> None:
    out = redact(text)
    assert out.text == expected
    assert set(out.counts) == {"ip"}


@pytest.mark.parametrize(
    "text",
    ["version 1.2.3", "256.1.1.1", "1.2.3.4.5", "v1.2.3.4", "at 10:30:00", "mac 00:1a:2b:3c:4d:5e", "std::vector"],
)
def test_ip_negatives(text: str) -> None:
    _unchanged(text)


def test_counts_only_kinds_found() -> None:
    out = redact(
        "I'm jane@example.com, +44 20 7946 0321 / 020 7946 0321, card 4111 1111 1111 1111, "
        "IBAN GB82WEST12345698765432, token=abc123xyz from 10.0.0.1"
    )
    assert out.counts == {"email": 1, "phone": 2, "card": 1, "iban": 1, "secret": 1, "ip": 1}
    assert out.text == "I'm [EMAIL], [PHONE] / [PHONE], card [CARD], IBAN [IBAN], token=[SECRET] from [IP]"
    assert redact("nothing here").counts == {}


def test_idempotent() -> None:
    texts = [
        "password: hunter22 and Bearer abcDEF123456ghiJKL789 for a@b.io",
        "Card 4111 1111 1111 1111 123, IBAN DE89 3704 0044 0532 0130 00, call (415) 555-0100",
        "api_key=[SECRET] token: [SECRET] Bearer [SECRET] [CARD] [PHONE] [IP] [IBAN] [EMAIL]",
        "fe80::1 and 192.168.0.1 and +1 415 555 0100",
    ]
    for text in texts:
        once = redact(text).text
        again = redact(once)
        assert again == Redaction(once, {})


def _seconds(text: str) -> float:
    started = time.perf_counter()
    redact(text)
    return time.perf_counter() - started


def test_pathological_input_is_linear() -> None:
    """No pattern backtracks catastrophically: 4× the input costs about 4× the time, not 16× or worse.

    A ratio within one run, not a time limit: these CPUs slow down ~3× under load, which a fixed bound mistakes
    for a regression (the "1 " case takes ~1 s at 20,000 characters, the message size limit, on a quiet machine).
    Small and large runs alternate and the best of five each counts, so a slow spell hits both (with two, one spell
    at load 6 made "a-" look 17× slower).
    """
    units = [("x@", "a-", 1), ("", "a_", 1), ("", "1 ", 1), ("", "1:", 1), ("", "(1)", 1), ("", "GB82 ", 2)]
    for head, unit, per in units:
        small, large = (head + unit * (n // per) for n in (2_500, 10_000))
        runs = [(_seconds(small), _seconds(large)) for _ in range(5)]
        ratio = min(r[1] for r in runs) / min(r[0] for r in runs)
        assert ratio < 10, f"{unit!r} × 4 took {ratio:.1f}× as long: super-linear"


def test_banking_questions_without_pii_are_unchanged() -> None:
    with BANKING77.open(encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f) if not re.search(r"\d{9,}", row["text"])]
    sample = random.Random(77).sample(texts, 30)
    with_digits = [t for t in texts if re.search(r"\d", t)]
    sample += random.Random(7).sample(with_digits, 10)  # amounts, dates and times are where regexes go wrong
    for text in sample:
        _unchanged(text)


# --- issue 13: harder text --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane dot doe at example dot com", "mail [EMAIL]"),
        ("reach me at m.garcia(at)example.es now", "reach me at [EMAIL] now"),
        ("write to peter [at] example [dot] de", "write to [EMAIL]"),
        ("It's j.smith at example.com, thanks", "It's [EMAIL], thanks"),
        ("correo lucia punto fernandez arroba example punto es", "correo [EMAIL]"),
        ("invite?email=rachel.green%40example.com&team=4", "invite?email=[EMAIL]&team=4"),
    ],
)
def test_obfuscated_email(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    ["Look at example.com/pricing", "We are at Brightline Logistics dot com now", "3 @ 4.99 each", "be at the office"],
)
def test_obfuscated_email_negatives(text: str) -> None:
    _unchanged(text)


@pytest.mark.parametrize(
    "phone",
    [
        "(11) 98765-4321",  # Brazil
        "+91 98765 43210",  # India
        "0412 345 678",  # Australia
        "03-1234-5678",  # Japan
        "55 1234 5678",  # Mexico
        "333 123 4567",  # Italy
        "612 34 56 78",  # Spain
        "06 12 34 56 78",  # France
        "040 / 23 45 67 89",  # Germany
        "06-12345678",  # Netherlands
    ],
)
def test_phone_formats_of_many_countries(phone: str) -> None:
    assert redact(f"please call {phone} today").text == "please call [PHONE] today"


@pytest.mark.parametrize(
    "text",
    [
        "Transaction ID 8812 3345 9901 is missing",
        "Our VAT number is DE 123456789",
        "The app version 5.12.0 (51200) crashes",
        "Chrome 122.0.6261.112 shows a blank page",
        "Order #112-4456781-9920134 never arrived",
        "The reference on the transfer is 20240315-00042.",
        "Firmware 10.2.3.4 keeps rebooting; our range is 10.0.0.0/8",
        "change my pin to 1234",  # CLINC150 asks this a hundred ways; a request, not a leak
        "My password is not working since the update.",
        "password is wrong apparently, even after the reset",
        "Request id 7f3c9a2e-1b4d-4e8f-9a6b-2c1d0e9f8a7b in the error",
    ],
)
def test_look_alikes_stay(text: str) -> None:
    _unchanged(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my password is Tr0ub4dor&3 and", "my password is [SECRET] and"),
        ("password qwerty123 doesn't work", "password [SECRET] doesn't work"),
        ("my pin is 4821, the card", "my pin is [SECRET], the card"),
        ("new password: sunshine", "new password: [SECRET]"),
        ("mon mot de passe est Soleil#75 et", "mon mot de passe est [SECRET] et"),
        ("postgres://fernpay:s3cr3tPa55@db.internal:5432/x", "postgres://fernpay:[SECRET]@db.internal:5432/x"),
        ("whsec_CydLAYwULlBZZIXsJmjKbud8yfmELkrL!", "[SECRET]!"),
        ("SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "[SECRET]"),  # detect-secrets
        ("The API key e6aa661fac801be1075362d241bfbb02 was created", "The API key [SECRET] was created"),
    ],
)
def test_secret_in_prose(text: str, expected: str) -> None:
    out = redact(text)
    assert out.text == expected
    assert set(out.counts) == {"secret"}


def test_private_key_body_is_one_secret() -> None:
    out = redact("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAabc\n-----END RSA PRIVATE KEY-----")
    assert out.text == "-----BEGIN RSA PRIVATE KEY-----\n[SECRET]\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IBAN GB60-BARC-2000-0055-7799-11 (dashes)", "IBAN [IBAN] (dashes)"),
        ("Visa 4111.1111.1111.1111 fails", "Visa [CARD] fails"),
        ("CARD 4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 7 typed", "CARD [CARD] typed"),
        ("call +44 20 7946 0321 / 020 7946 0321", "call [PHONE] / [PHONE]"),
    ],
)
def test_spaced_dashed_dotted(text: str, expected: str) -> None:
    assert redact(text).text == expected


def test_scorer_counts_a_misplaced_placeholder_as_a_miss_and_a_false_positive() -> None:
    case = {"text": "call 020 7946 0321 about order 5", "pii": [["phone", "020 7946 0321"]], "source": "hand"}
    assert replaced_spans(case["text"], "call [PHONE] about order 5") == [("phone", 5, 18)]
    wrong = replaced_spans(case["text"], "call 020 7946 0321 about order [PHONE]")
    assert wrong == [("phone", 31, 32)]


def test_labelled_set_meets_the_goals() -> None:
    """Issue 13's goals on the whole labelled set, scored by span (bench/redaction.py)."""
    cases = load_cases()
    assert sum(c["source"] == "hand" for c in cases) >= 300
    result = score(cases)
    for kind, goal in GOALS["recall"].items():
        assert result.expected[kind] >= 60, kind
        assert result.recall(kind) >= goal, (kind, result.misses)
    assert result.precision() >= GOALS["precision"], result.false_positives


@pytest.mark.parametrize("path", [BANKING77, CLINC150], ids=["banking77", "clinc150"])
def test_public_sets_are_unchanged(path: Path) -> None:
    """Every BANKING77 and CLINC150 training text (amounts, dates, PINs asked about, versions): no change at all."""
    assert changed(read_texts(path)) == []
