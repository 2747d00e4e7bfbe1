"""Replace personal data and credentials in customer text with typed placeholders before it is stored.

Questions are kept for months, embedded, clustered and shown to writers; none of that needs a card number or an
API key, and keeping them would make the store a liability. A typed placeholder (`[CARD]`, `[EMAIL]`, ...) keeps
the sentence readable and still tells a reader that the customer pasted a card number.

The rules lean towards leaving text alone: support questions are full of amounts, dates, order numbers and
versions, and mangling them would hurt clustering more than a rare missed phone number hurts privacy. So numbers
are only replaced when a checksum agrees (Luhn for cards, mod-97 for IBANs, `ipaddress` for IPv6) or when their
shape is unmistakable. Kinds run from the most to the least specific, so a card number is never taken for a
phone number. Only the standard library is used.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

PLACEHOLDERS = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "secret": "[SECRET]",
    "ip": "[IP]",
}
_PLACEHOLDER = r"\[(?:EMAIL|PHONE|CARD|IBAN|SECRET|IP)\]"


@dataclass(frozen=True)
class Redaction:
    """The redacted text and, per kind, how many values were replaced (kinds with none are absent)."""

    text: str
    counts: dict[str, int]


# --- secrets -------------------------------------------------------------------------------------------------------
# Vendor formats with a recognisable prefix: safe to replace wherever they appear.
_TOKEN = re.compile(
    r"(?<![\w-])(?:"
    r"sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Anthropic style
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"  # Stripe
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}"  # GitHub
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}"  # AWS access key id
    r"|AIza[A-Za-z0-9_-]{35}"  # Google API key
    r"|eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"  # JWT (header.payload.signature)
    r")(?![\w-])"
)
_BEARER = re.compile(rf"\b(Bearer\s+)(?!{_PLACEHOLDER})([A-Za-z0-9._~+/-]+=*)", re.I)
# `password: hunter2`, `"api_key": "..."`, `?token=...`: the name stays (it tells the reader what was there).
_KEY_VALUE = re.compile(
    r"(?<![\w-])((?:[a-z]+[_-]){0,3}(?:password|passwd|pwd|passcode|pin|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key)(?:[_-][a-z]+)*[\"']?\s*([:=])\s*[\"']?)"
    rf"(?!{_PLACEHOLDER})([^\s\"'`,;&<>]*[^\s\"'`,;&<>.!?)\]])",
    re.I,
)


def _looks_random(value: str) -> bool:
    """Whether a word reads like a credential rather than English ("Token: when does it arrive?")."""
    return bool(re.search(r"\d|[^A-Za-z]", value) or re.search(r".[A-Z]", value))


def _bearer(m: re.Match[str]) -> str | None:
    token = m.group(2)
    if len(token) < 16 or not _looks_random(token):  # "Bearer authentication" is prose
        return None
    return m.group(1) + PLACEHOLDERS["secret"]


def _key_value(m: re.Match[str]) -> str | None:
    value = m.group(3)
    # After `=` (code, URLs, config) anything is a value; after `:` the value must not read like a word.
    if len(value) < 4 or (m.group(2) == ":" and not _looks_random(value)):
        return None
    return m.group(1) + PLACEHOLDERS["secret"]


# --- email ---------------------------------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9_%+-][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b"
)

# --- IBAN ----------------------------------------------------------------------------------------------------------
# Length per country (ISO 13616 registry). The length is what lets us stop at the right character when an IBAN
# written in groups of four is followed by more capitals or digits.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_IBAN_START = re.compile(r"\b[A-Z]{2}\d{2} ?[A-Z0-9]", re.I)
_IBAN_PREFIX = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4})* ?$")


def _iban_end(text: str, start: int) -> int | None:
    """End of a valid IBAN beginning at `start` (single spaces allowed between characters), else None."""
    length = _IBAN_LENGTHS.get(text[start : start + 2].upper())
    if not length:
        return None
    chars: list[str] = []
    i = start
    while i < len(text) and len(chars) < length:
        if text[i].isascii() and text[i].isalnum():
            chars.append(text[i].upper())
        elif not (text[i] == " " and chars and i + 1 < len(text) and text[i + 1] != " "):
            return None
        i += 1
    if len(chars) < length or (i < len(text) and text[i].isalnum()):
        return None
    compact = "".join(chars)
    if not any(c.isdigit() for c in compact[4:]):
        return None
    number = int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4]))
    return i if number % 97 == 1 else None


def _continues_iban(before: str) -> bool:
    """Whether digits starting here continue an IBAN-shaped string (one that failed its check: a typo)."""
    return bool(_IBAN_PREFIX.search(before[-40:]))


def _replace_ibans(text: str) -> tuple[str, int]:
    out: list[str] = []
    pos = n = 0
    for m in _IBAN_START.finditer(text):
        if m.start() < pos:
            continue
        end = _iban_end(text, m.start())
        if end is not None:
            out += [text[pos : m.start()], PLACEHOLDERS["iban"]]
            pos, n = end, n + 1
    return "".join([*out, text[pos:]]), n


# --- cards ---------------------------------------------------------------------------------------------------------
# A run of digit groups joined by single spaces or dashes; the card is looked for among consecutive groups so that
# "4111 1111 1111 1111 123" (card then CVV) or a date in front still yields the card.
_DIGIT_RUN = re.compile(r"(?<![\w+.,/-])\d++(?:[ -]\d++)*+(?![\w]|[.,/]\d)")


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card_shaped(sizes: list[int]) -> bool:
    """Printed card layouts: unbroken, groups of four (the last may be shorter), or Amex/Diners 4-6-5 / 4-6-4."""
    return len(sizes) == 1 or all(n == 4 for n in sizes[:-1]) or sizes in ([4, 6, 5], [4, 6, 4])


def _cards(m: re.Match[str]) -> str | None:
    run = m.group()
    if _continues_iban(m.string[: m.start()]):
        return None
    spans = [(g.start(), g.end()) for g in re.finditer(r"\d+", run)]
    digits = [run[a:b] for a, b in spans]
    chosen: list[tuple[int, int]] = []
    # Card-shaped windows first, so "2026-11-03 4111 1111 1111 1111" is not cut as "11-03 4111 1111 1111" when
    # that happens to pass Luhn too; then any window of consecutive groups, longest first.
    for shaped in (True, False):
        for i in range(len(spans)):
            windows: list[int] = []
            total = 0
            for j in range(i, len(spans)):
                total += len(digits[j])
                if total > 19:
                    break
                if total >= 13:
                    windows.append(j)
            for j in reversed(windows):
                if any(a <= j and i <= b for a, b in chosen):
                    continue
                if shaped and not _card_shaped([len(d) for d in digits[i : j + 1]]):
                    continue
                number = "".join(digits[i : j + 1])
                if number[0] != "0" and _luhn(number):
                    chosen.append((i, j))
                    break
    if not chosen:
        return None
    pieces: list[str] = []
    pos = 0
    for i, j in sorted(chosen):
        pieces += [run[pos : spans[i][0]], PLACEHOLDERS["card"]]
        pos = spans[j][1]
    return "".join([*pieces, run[pos:]])


# --- IP addresses --------------------------------------------------------------------------------------------------
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)")  # "1.2.3" (a version) has 3 parts
_IPV6_CANDIDATE = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%\w+)?(?![\w:]|\.\d)"
)


def _ipv6(m: re.Match[str]) -> str | None:
    candidate = m.group()
    if sum(c.isalnum() for c in candidate) < 2:  # a lone "::" is punctuation, not the unspecified address
        return None
    try:
        ipaddress.IPv6Address(candidate)  # rejects times ("10:30:00") and MAC addresses
    except ValueError:
        return None
    return PLACEHOLDERS["ip"]


# --- phones --------------------------------------------------------------------------------------------------------
# A maximal run of digits, spaces, dots, dashes and parentheses; whether it is a phone number is decided on the
# whole run, so an amount or a list of numbers is never cut into a phone-sized piece.
_PHONE_RUN = re.compile(r"(?<![\w#£$€¥+.,/-])(?:\+ ?|(?<!\d[ .()-]))[\d(][\d ().-]*+")
_CURRENCY_BEFORE = re.compile(r"[£$€¥]\s?$|\b(?:EUR|USD|GBP)\s?$", re.I)
_CURRENCY_AFTER = re.compile(r"^\s?(?:EUR|USD|GBP|CHF|euros?|dollars?|pounds?|quid|bucks)\b", re.I)


def _is_phone(run: str, before: str, after: str) -> bool:
    digits = re.sub(r"\D", "", run)
    groups = re.findall(r"\d+", run)
    if run.startswith("+"):
        return 8 <= len(digits) <= 15
    if run.startswith("00") and len(groups) > 1 and len(groups[0]) <= 5:  # 00 44 20 7946 0321
        return 8 <= len(digits) - 2 <= 15
    if not 9 <= len(digits) <= 12 or _CURRENCY_BEFORE.search(before) or _CURRENCY_AFTER.match(after):
        return False
    if len(groups) == 1:  # unbroken: only the national trunk form (07700900123), not any reference number
        return digits[0] == "0" and len(digits) in (10, 11)
    if max(map(len, groups)) > 8 or all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):  # years
        return False
    seps = set(re.sub(r"[\d()]", "", run))
    thousands = len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    return not (thousands and (seps <= {".", ","} or len(groups[0]) < 3))  # 1.250.000.000, 1 250 000 000


def _phones(m: re.Match[str]) -> str | None:
    run = m.group()
    stripped = run.rstrip(" .-(")
    if stripped.count(")") > stripped.count("("):
        stripped = stripped.rstrip(")")
    lead = ""
    if stripped.startswith("(") and ")" not in stripped:
        lead, stripped = "(", stripped[1:]
    if not stripped or not (stripped[-1].isdigit() or stripped.endswith(")")):
        return None
    start, end = m.start() + len(lead), m.start() + len(lead) + len(stripped)
    before, after = m.string[:start], m.string[end:]
    if _continues_iban(before) or not _is_phone(stripped, before, after):
        return None
    return lead + PLACEHOLDERS["phone"] + run[len(lead) + len(stripped) :]


# --- driver --------------------------------------------------------------------------------------------------------
def _sub(
    pattern: re.Pattern[str], kind: str, replace: Callable[[re.Match[str]], str | None] | None = None
) -> Callable[[str], tuple[str, int]]:
    """A step that replaces each match `replace` accepts (default: all) and counts the placeholders it added."""

    def step(text: str) -> tuple[str, int]:
        n = 0

        def one(m: re.Match[str]) -> str:
            nonlocal n
            new = replace(m) if replace else PLACEHOLDERS[kind]
            if new is None:
                return m.group()
            n += new.count(PLACEHOLDERS[kind])
            return new

        return pattern.sub(one, text), n

    return step


# Most specific first: tokens before key=value pairs, IBANs before cards (an IBAN holds long digit runs), cards
# before phones, IPs before phones (192.168.100.200 has phone-like digit groups).
_STEPS: list[tuple[str, Callable[[str], tuple[str, int]]]] = [
    ("secret", _sub(_TOKEN, "secret")),
    ("secret", _sub(_BEARER, "secret", _bearer)),
    ("secret", _sub(_KEY_VALUE, "secret", _key_value)),
    ("email", _sub(_EMAIL, "email")),
    ("iban", _replace_ibans),
    ("card", _sub(_DIGIT_RUN, "card", _cards)),
    ("ip", _sub(_IPV6_CANDIDATE, "ip", _ipv6)),
    ("ip", _sub(_IPV4, "ip")),
    ("phone", _sub(_PHONE_RUN, "phone", _phones)),
]


def redact(text: str) -> Redaction:
    """`text` with e-mail addresses, phone numbers, card numbers, IBANs, secrets and IP addresses replaced.

    Idempotent: placeholders are never matched again, so redacting stored text twice changes nothing.
    """
    counts: dict[str, int] = {}
    for kind, step in _STEPS:
        text, n = step(text)
        if n:
            counts[kind] = counts.get(kind, 0) + n
    return Redaction(text=text, counts=counts)
