"""Measure PII redaction on labelled support messages: recall and precision per kind, and harm to clean text.

    python -m bench.redaction            # score bench/data/redaction_cases.jsonl against the goals (exit 1 if missed)
    python -m bench.redaction --rebuild  # regenerate the file's generated cases (seeded); hand-written ones stay

The set has two parts (see `bench/data/SOURCE.md`). *generated*: BANKING77 questions with personal data put in
(valid-Luhn cards, mod-97-valid GB/DE/FR/NL IBANs, e-mails, phones, tokens, IPs) and numeric negatives.
*hand*: messages written by hand for this project, in the shapes the generator does not produce: names next to
e-mails, obfuscated e-mails, phones as twelve countries write them, spaced and dashed cards and IBANs, vendor keys,
JWTs, passwords in prose, and look-alikes that must stay (order numbers, dates, amounts, versions, ids).

Each case lists its values as `[kind, value]`. Scoring is by span, not by count, so replacing the wrong words
cannot pass for a hit: the placeholders in the output are aligned back to the input; a value is recalled when
placeholders of its kind cover all its letters and digits, and a placeholder is correct when it overlaps a value
of its kind (else it is a false positive). BANKING77 and CLINC150 (no personal data in them) must come out
unchanged: every change there is a false positive on text the labelled set was not written against.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ingest.redact import PLACEHOLDERS, redact

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "bench" / "data" / "redaction_cases.jsonl"
BANKING77 = ROOT / "demo" / "banking77" / "train.csv"
CLINC150 = ROOT / "bench" / "data" / "clinc150" / "train.csv"
GOALS = {"recall": {"email": 0.99, "phone": 0.99, "card": 0.99, "secret": 0.99}, "precision": 0.98, "unchanged": 1.0}


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


_NEGATIVES = [  # numeric text that is not personal data
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


def _secret(rng: random.Random) -> tuple[str, str]:
    """A message fragment holding one secret, as a customer would paste it, and the secret in it."""
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    rand = lambda n: "".join(rng.choice(alnum) for _ in range(n))  # noqa: E731
    upper = lambda n: "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(n))  # noqa: E731
    b64 = lambda n: "".join(rng.choice(alnum + "-_") for _ in range(n))  # noqa: E731
    values = [
        ("my key is {}", f"sk-proj-{b64(40)}"),
        ("we use {} in production", f"sk_live_{rand(24)}"),
        ("publishable key {}", f"pk_live_{rand(24)}"),
        ("the token {} stopped working", f"ghp_{rand(36)}"),
        ("Slack bot token {}", f"xoxb-{rng.randint(10**9, 10**10)}-{rand(24)}"),
        ("AWS key {}", f"AKIA{upper(16)}"),
        ("JWT {}", f"eyJhbGciOiJIUzI1NiJ9.eyJ{b64(30)}.{b64(43)}"),
        ("header Authorization: Bearer {}", rand(32)),
        ("password: {}", rand(10)),
        ("api_key={}", rand(32)),
        ('config {{"client_secret": "{}"}}', rand(28)),
        ("https://api.example.com/v1/accounts?token={}", rand(24)),
    ]
    template, value = rng.choice(values)
    return template.format(value), value


def build_cases(seed: int = 2026) -> list[dict]:
    """BANKING77 questions with personal data inserted, negatives and hard cases: the generated part of the set."""
    rng = random.Random(seed)
    with BANKING77.open(encoding="utf-8") as f:
        questions = [r["text"].strip() for r in csv.DictReader(f) if not re.search(r"\d{5,}", r["text"])]
    rng.shuffle(questions)
    q = iter(questions)
    cases: list[dict] = []

    def add(template: str, question: str = "", **values: str) -> None:
        """One case from a template whose `{kind}` fields are filled with labelled values."""
        text = template.format(q=question, **values)
        pii = [[kind.rstrip("0123456789"), value] for kind, value in values.items()]
        cases.append({"text": text, "pii": pii, "source": "generated"})

    for _ in range(25):
        t = rng.choice(
            [
                "{q} My card number is {card}.",
                "{q} (card {card})",
                "I paid with {card}. {q}",
                "{q} card: {card} exp 04/28",
            ]
        )
        add(t, next(q), card=_card(rng))
    for _ in range(20):
        t = rng.choice(
            ["{q} My IBAN is {iban}.", "{q} Sending to {iban}", "IBAN: {iban} - {q}", "{q} to account {iban} please"]
        )
        add(t, next(q), iban=_iban(rng))
    for phone in _PHONES:
        t = rng.choice(
            ["{q} You can call me on {phone}.", "{q} My number: {phone}", "Call {phone} - {q}", "{q} ({phone})"]
        )
        add(t, next(q), phone=phone)
    for email in _EMAILS + rng.sample(_EMAILS, 4):
        t = rng.choice(
            ["{q} My email is {email}.", "{q} Please reply to {email}", "From {email}: {q}", "{q} <{email}>"]
        )
        add(t, next(q), email=email)
    for _ in range(20):
        fragment, secret = _secret(rng)
        add("{q} " + fragment.replace("{", "{{").replace("}", "}}").replace(secret, "{secret}"), next(q), secret=secret)
    for ip in _IPS + rng.sample(_IPS, 3):
        t = rng.choice(["{q} My IP is {ip}.", "{q} Login came from {ip}", "Blocked from {ip}? {q}"])
        add(t, next(q), ip=ip)
    for _ in range(12):  # several kinds in one message
        add(
            "{q} I'm {email}, phone {phone}, card {card}, refund to {iban}.",
            next(q),
            email=rng.choice(_EMAILS),
            phone=rng.choice(_PHONES),
            card=_card(rng),
            iban=_iban(rng),
        )
    for text in _NEGATIVES:
        add(text.replace("{", "{{").replace("}", "}}"))
    for _ in range(10):  # numbers that look like cards or IBANs but fail their checks
        add(f"{next(q)} Reference {_card(rng, valid=False)}.".replace("{", "{{").replace("}", "}}"))
    for _ in range(5):
        add(f"{next(q)} Is {_iban(rng, valid=False)} correct?".replace("{", "{{").replace("}", "}}"))
    add("{q} my password is {secret}", next(q), secret="hunter2")
    add("{q} password: {secret}", next(q), secret="sunshine")
    add("{q} call me at {phone}", next(q), phone=_HARD_PHONES[0])
    add("{q} my cell {phone}", next(q), phone=_HARD_PHONES[1])
    add("{q} email {email}", next(q), email="jane dot doe at example dot com")
    add("{q} Tracking 9400 1000 0000 0000 0000 00", next(q))
    return cases


# --- scoring -------------------------------------------------------------------------------------------------------
_PLACEHOLDER_KIND = {v: k for k, v in PLACEHOLDERS.items()}
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))


def replaced_spans(original: str, redacted: str) -> list[tuple[str, int, int]]:
    """Where in `original` each placeholder of `redacted` sits, as (kind, start, end).

    The redactor keeps everything around a placeholder verbatim, so the output read as a pattern (literal text,
    one lazy group per placeholder) matches the input and its groups are the replaced values.
    """
    kinds = [_PLACEHOLDER_KIND[m.group()] for m in _PLACEHOLDER_RE.finditer(redacted)]
    literals = _PLACEHOLDER_RE.split(redacted)
    pattern = "(.+?)".join(re.escape(part) for part in literals)
    m = re.fullmatch(pattern, original, re.S)
    if m is None:
        raise ValueError(f"redaction changed text outside its placeholders: {redacted!r}")
    return [(kind, m.start(i + 1), m.end(i + 1)) for i, kind in enumerate(kinds)]


def label_spans(case: dict) -> list[tuple[str, int, int]]:
    """The labelled values' spans; a value listed twice is looked for twice."""
    spans: list[tuple[str, int, int]] = []
    for kind, value in case["pii"]:
        start = case["text"].find(value)
        while start >= 0 and any(s == start for _, s, _ in spans):
            start = case["text"].find(value, start + 1)
        if start < 0:
            raise ValueError(f"label {value!r} not in {case['text']!r}")
        spans.append((kind, start, start + len(value)))
    return spans


@dataclass
class Score:
    """Counts per kind; `misses` and `false_positives` keep the texts for the report."""

    expected: Counter[str] = field(default_factory=Counter)
    recalled: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # kind, value, redacted text
    false_positives: list[tuple[str, str, str]] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.recalled[kind] / self.expected[kind] if self.expected[kind] else 1.0

    def precision(self, kind: str | None = None) -> float:
        found = self.found[kind] if kind else sum(self.found.values())
        correct = self.correct[kind] if kind else sum(self.correct.values())
        return correct / found if found else 1.0


def score(cases: list[dict]) -> Score:
    """Span-level recall and precision of `redact` on labelled cases."""
    result = Score()
    for case in cases:
        text = case["text"]
        redacted = redact(text).text
        found = replaced_spans(text, redacted)
        labels = label_spans(case)
        for kind, start, end in labels:
            result.expected[kind] += 1
            covered = {i for k, a, b in found if k == kind for i in range(a, b)}
            if all(i in covered for i in range(start, end) if text[i].isalnum()):
                result.recalled[kind] += 1
            else:
                result.misses.append((kind, text[start:end], redacted))
        for kind, start, end in found:
            result.found[kind] += 1
            if any(k == kind and start < b and a < end for k, a, b in labels):
                result.correct[kind] += 1
            else:
                result.false_positives.append((kind, text[start:end], redacted))
    return result


def read_texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)]


def changed(texts: list[str]) -> list[tuple[str, str]]:
    """The texts `redact` alters, with what it made of them."""
    return [(t, r) for t in texts if (r := redact(t).text) != t]


def load_cases(path: Path = CASES) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- report --------------------------------------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{100 * x:6.1f}%"


def report(cases: list[dict]) -> bool:
    """Print recall and precision per kind (all cases, hand-written, generated) and the clean-text checks."""
    parts = {"all": cases, **{s: [c for c in cases if c["source"] == s] for s in ("hand", "generated")}}
    scores = {name: score(part) for name, part in parts.items()}
    ok = True
    print(
        f"{len(cases)} labelled messages ({len(parts['hand'])} hand-written, {len(parts['generated'])} generated), "
        f"{sum(not c['pii'] for c in cases)} of them without personal data\n"
    )
    header = "".join(f"{name + ' recall':>17}{'precision':>10}" for name in parts)
    print(f"{'kind':<8}{'values':>7}{header}   goal")
    for kind in PLACEHOLDERS:
        cells = "".join(
            f"{_pct(s.recall(kind)):>9} {s.recalled[kind]:>3}/{s.expected[kind]:<3}{_pct(s.precision(kind)):>10}"
            for s in scores.values()
        )
        goal = GOALS["recall"].get(kind)
        met = goal is None or scores["all"].recall(kind) >= goal
        ok &= met
        print(
            f"{kind:<8}{scores['all'].expected[kind]:>7}{cells}   {f'recall ≥ {goal:.0%}' if goal else ''}"
            f"{'' if met else '  MISSED'}"
        )
    precision = scores["all"].precision()
    ok &= precision >= GOALS["precision"]
    cells = "".join(f"{'':>17}{_pct(s.precision()):>10}" for s in scores.values())
    print(
        f"{'overall':<8}{sum(scores['all'].expected.values()):>7}{cells}   precision ≥ {GOALS['precision']:.0%}"
        f"{'' if precision >= GOALS['precision'] else '  MISSED'}"
    )
    print()
    for name, path in (("BANKING77", BANKING77), ("CLINC150", CLINC150)):
        texts = read_texts(path)
        altered = changed(texts)
        share = 1 - len(altered) / len(texts)
        ok &= share >= GOALS["unchanged"]
        print(
            f"{name} train texts unchanged: {len(texts) - len(altered)}/{len(texts)} ({_pct(share).strip()}, "
            f"goal 100%){'' if share >= GOALS['unchanged'] else '  MISSED'}"
        )
        for text, redacted in altered[:10]:
            print(f"    {text!r} -> {redacted!r}")
    s = scores["all"]
    for title, rows in (("missed values", s.misses), ("false positives", s.false_positives)):
        if rows:
            print(f"\n{title} (kind, value, redacted text):")
            for kind, value, redacted in rows:
                print(f"  {kind:<7} {value!r}\n          {redacted!r}")
    print(f"\ngoals {'met' if ok else 'NOT met'}")
    return ok


def main() -> None:
    if "--rebuild" in sys.argv[1:]:
        hand = [c for c in load_cases() if c.get("source") == "hand"] if CASES.exists() else []
        cases = build_cases() + hand
        CASES.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
        print(f"wrote {len(cases)} cases to {CASES.relative_to(ROOT)} ({len(hand)} hand-written kept)")
    sys.exit(0 if report(load_cases()) else 1)


if __name__ == "__main__":
    main()
