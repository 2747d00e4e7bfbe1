"""Measure PII redaction on labelled support messages: per-kind precision and recall, counted per placeholder.

    python -m bench.redaction            # evaluate bench/data/redaction_cases.jsonl
    python -m bench.redaction --rebuild  # regenerate that file (seeded, so the same file every time)

The cases are BANKING77 questions with personal data put in the way customers write it (valid-Luhn card numbers,
mod-97-valid GB/DE/FR/NL IBANs, e-mail addresses, phones in many formats, API tokens, IPs), plus negatives that
look numeric but are not personal data (failed-Luhn numbers, amounts, dates, order numbers, versions). A few
deliberately hard cases ("my password is ...", an unbroken US phone number) are labelled as what a human would
redact, so recall below 1 is expected and shows the limits.

Counting: for each message and kind, min(found, expected) are true positives, the excess found are false
positives and the shortfall false negatives.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

from ingest.redact import PLACEHOLDERS, redact

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "bench" / "data" / "redaction_cases.jsonl"
BANKING77 = ROOT / "demo" / "banking77" / "train.csv"


# --- building the labelled set -------------------------------------------------------------------------------------
def _luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (1 if i % 2 else 2)  # the check digit will sit to the right, so doubling starts here
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def _card(rng: random.Random, valid: bool = True) -> str:
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("37", 15), ("34", 15), ("6011", 16)])
    number = _luhn_complete(rng, prefix, length)
    if not valid:
        number = number[:-1] + str((int(number[-1]) + rng.randint(1, 9)) % 10)
    style = rng.choice(["plain", "spaces", "dashes"])
    if style == "plain":
        return number
    groups = [number[:4], number[4:10], number[10:]] if length == 15 else re.findall(".{4}", number)
    return (" " if style == "spaces" else "-").join(groups)


def _iban(rng: random.Random, valid: bool = True) -> str:
    country = rng.choice(["GB", "DE", "FR", "NL"])
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    bban = {
        "GB": lambda: rng.choice(["NWBK", "BARC", "LOYD", "HBUK", "MIDL"]) + digits(14),
        "DE": lambda: digits(18),
        "FR": lambda: digits(23),
        "NL": lambda: rng.choice(["ABNA", "RABO", "INGB", "TRIO"]) + digits(10),
    }[country]()
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    if not valid:
        check = (check + rng.randint(1, 96) - 2) % 97 + 2  # any other check value fails mod 97
    iban = f"{country}{check:02d}{bban}"
    return " ".join(re.findall(".{1,4}", iban)) if rng.random() < 0.6 else iban


_PHONES = [
    "+44 20 7946 0321", "+44 7700 900123", "+447700900456", "+1 (415) 555-0100", "+1 415-555-0142", "+1 212 555 0188",
    "020 7946 0321", "07700 900123", "07700900987", "(415) 555-0100", "415.555.0199", "415-555-0173", "1-800-555-0199",
    "+49 30 12345678", "+49 151 23456789", "030 12345678", "+33 6 12 34 56 78", "01 23 45 67 89", "0033 6 12 34 56 78",
    "+31 20 123 4567", "+353 1 234 5678", "+34 912 345 678", "0161 496 0000", "+44 (0)20 7946 0321",
]  # fmt: skip
_HARD_PHONES = ["4155550100", "2125550188"]  # unbroken 10-digit US numbers: indistinguishable from references
_EMAILS = [
    "jane.doe@example.com", "sam+bank@mail.example.co.uk", "j_smith99@example.org", "m.garcia@example.es",
    "olivier.dupont@example.fr", "K.Nguyen@Example.COM", "support-user@sub.example.net", "a1@example.io",
]  # fmt: skip
_IPS = [
    "192.168.1.10", "10.0.0.254", "81.2.69.160", "203.0.113.7", "8.8.8.8", "2001:db8::1", "fe80::1ff:fe23:4567:890a",
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::ffff:198.51.100.23",
]  # fmt: skip


def _secret(rng: random.Random) -> tuple[str, int]:
    """A message fragment holding one secret, as a customer would paste it."""
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    rand = lambda n: "".join(rng.choice(alnum) for _ in range(n))  # noqa: E731
    upper = lambda n: "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(n))  # noqa: E731
    b64 = lambda n: "".join(rng.choice(alnum + "-_") for _ in range(n))  # noqa: E731
    fragments = [
        f"my key is sk-proj-{b64(40)}",
        f"we use sk_live_{rand(24)} in production",
        f"publishable key pk_live_{rand(24)}",
        f"the token ghp_{rand(36)} stopped working",
        f"Slack bot token xoxb-{rng.randint(10**9, 10**10)}-{rand(24)}",
        f"AWS key AKIA{upper(16)}",
        f"JWT eyJhbGciOiJIUzI1NiJ9.eyJ{b64(30)}.{b64(43)}",
        f"header Authorization: Bearer {rand(32)}",
        f"password: {rand(10)}",
        f"api_key={rand(32)}",
        f'config {{"client_secret": "{rand(28)}"}}',
        f"https://api.example.com/v1/accounts?token={rand(24)}",
    ]
    return rng.choice(fragments), 1


def build_cases(seed: int = 2026) -> list[dict]:
    """Labelled messages: BANKING77 questions with inserted personal data, negatives and hard cases."""
    rng = random.Random(seed)
    with BANKING77.open(encoding="utf-8") as f:
        questions = [r["text"].strip() for r in csv.DictReader(f) if not re.search(r"\d{5,}", r["text"])]
    rng.shuffle(questions)
    q = iter(questions)
    cases: list[dict] = []

    def add(text: str, **expected: int) -> None:
        cases.append({"text": text, "expected": {k: v for k, v in expected.items() if v}})

    for _ in range(25):
        t = rng.choice(
            ["{q} My card number is {x}.", "{q} (card {x})", "I paid with {x}. {q}", "{q} card: {x} exp 04/28"]
        )
        add(t.format(q=next(q), x=_card(rng)), card=1)
    for _ in range(20):
        t = rng.choice(["{q} My IBAN is {x}.", "{q} Sending to {x}", "IBAN: {x} - {q}", "{q} to account {x} please"])
        add(t.format(q=next(q), x=_iban(rng)), iban=1)
    for phone in _PHONES:
        t = rng.choice(["{q} You can call me on {x}.", "{q} My number: {x}", "Call {x} - {q}", "{q} ({x})"])
        add(t.format(q=next(q), x=phone), phone=1)
    for email in _EMAILS + rng.sample(_EMAILS, 4):
        t = rng.choice(["{q} My email is {x}.", "{q} Please reply to {x}", "From {x}: {q}", "{q} <{x}>"])
        add(t.format(q=next(q), x=email), email=1)
    for _ in range(20):
        fragment, n = _secret(rng)
        add(f"{next(q)} {fragment}", secret=n)
    for ip in _IPS + rng.sample(_IPS, 3):
        t = rng.choice(["{q} My IP is {x}.", "{q} Login came from {x}", "Blocked from {x}? {q}"])
        add(t.format(q=next(q), x=ip), ip=1)
    for _ in range(12):  # several kinds in one message
        add(
            f"{next(q)} I'm {rng.choice(_EMAILS)}, phone {rng.choice(_PHONES)}, card {_card(rng)}, "
            f"refund to {_iban(rng)}.",
            email=1,
            phone=1,
            card=1,
            iban=1,
        )
    negatives = [
        "I was charged £1,250.00 instead of £125.00, why?",
        "I only got $20 from the ATM but asked for $200.",
        "The payment on 2026-11-03 is still pending.",
        "My transfer on 03/11/2026 at 14:05 has not arrived.",
        "Ticket #52031 is still open.",
        "I opened ticket 52031 last week, any news?",
        "The app version 1.2.3 crashes on login.",
        "Version 10.4.1 of the app shows the wrong balance.",
        "My card ending in 4242 was declined.",
        "I earn 45 000 a year, can I get a higher limit?",
        "Sort code 12-34-56, account 12345678, is that right?",
        "The exchange rate was 1.1734 but you used 1.1502.",
        "Statements for 2019 2020 2021 please.",
        "Transfer of 1 250 000 000 euros?",
        "Order 123-456-78 never arrived.",
        "Top-up of €3 500 failed twice.",
        "I need 2 cards, 1 physical and 1 virtual.",
        "The password reset link does not work.",
        "Token: where do I find it?",
        "Do you support Bearer authentication for the API?",
        "Is my PIN the same as my password?",
        "Between 10:30 and 11:45 my card did not work.",
    ]
    for text in negatives:
        add(text)
    for _ in range(10):  # numbers that look like cards or IBANs but fail their checks
        add(f"{next(q)} Reference {_card(rng, valid=False)}.")
    for _ in range(5):
        add(f"{next(q)} Is {_iban(rng, valid=False)} correct?")
    hard = [  # what a person would redact but the rules do not (or cannot safely) catch
        (f"{next(q)} my password is hunter2", {"secret": 1}),
        (f"{next(q)} password: sunshine", {"secret": 1}),
        (f"{next(q)} call me at {_HARD_PHONES[0]}", {"phone": 1}),
        (f"{next(q)} my cell {_HARD_PHONES[1]}", {"phone": 1}),
        (f"{next(q)} email jane dot doe at example dot com", {"email": 1}),
        (f"{next(q)} Tracking 9400 1000 0000 0000 0000 00", {}),
    ]
    for text, expected in hard:
        add(text, **expected)
    return cases


# --- evaluation ----------------------------------------------------------------------------------------------------
def evaluate(cases: list[dict]) -> None:
    """Print per-kind and overall precision/recall, and which messages came out wrong."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    wrong: list[tuple[str, dict, dict]] = []
    negatives_altered = negatives = 0
    for case in cases:
        out = redact(case["text"])
        expected = case["expected"]
        for kind in PLACEHOLDERS:
            found, want = out.counts.get(kind, 0), expected.get(kind, 0)
            tp[kind] += min(found, want)
            fp[kind] += max(found - want, 0)
            fn[kind] += max(want - found, 0)
        if out.counts != expected:
            wrong.append((out.text, expected, out.counts))
        if not expected:
            negatives += 1
            negatives_altered += out.text != case["text"]

    def ratio(a: int, b: int) -> str:
        return f"{a / b:.3f}" if b else "  -  "

    print(f"{len(cases)} messages, {negatives} without PII\n")
    print(f"{'kind':<8} {'expected':>8} {'found':>6} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}")
    for kind in [*PLACEHOLDERS, "overall"]:
        if kind == "overall":
            t, p, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
            print("-" * 56)
        else:
            t, p, n = tp[kind], fp[kind], fn[kind]
        print(f"{kind:<8} {t + n:>8} {t + p:>6} {t:>4} {p:>4} {n:>4} {ratio(t, t + p):>9} {ratio(t, t + n):>7}")
    exact = len(cases) - len(wrong)
    print(f"\nmessages with exactly the expected counts: {exact}/{len(cases)}")
    print(f"messages without PII that were altered: {negatives_altered}/{negatives}")
    if wrong:
        print("\nmismatches (redacted text, expected, found):")
        for text, expected, found in wrong:
            print(f"  {text!r}\n    expected {expected} found {found}")


def main() -> None:
    if "--rebuild" in sys.argv[1:]:
        CASES.parent.mkdir(parents=True, exist_ok=True)
        cases = build_cases()
        CASES.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
        print(f"wrote {len(cases)} cases to {CASES.relative_to(ROOT)}")
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    evaluate(cases)


if __name__ == "__main__":
    main()
