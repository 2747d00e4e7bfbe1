"""Replace personal data and credentials in customer text with typed placeholders before it is stored.

Questions are kept for months, embedded, clustered and shown to writers; none of that needs a card number or an
API key, and keeping them would make the store a liability. A typed placeholder (`[CARD]`, `[EMAIL]`, ...) keeps
the sentence readable and still tells a reader that the customer pasted a card number.

The rules lean towards leaving text alone: support questions are full of amounts, dates, order numbers and
versions, and mangling them would hurt clustering more than a rare missed phone number hurts privacy. So numbers
are only replaced when a checksum agrees (Luhn for cards, mod-97 for IBANs, `ipaddress` for IPv6), when a
numbering plan does (a phone number written without its country code must be a valid number in one of the
countries our customers write from, per Google's libphonenumber metadata in `phonenumbers`), or when their shape is
unmistakable (vendor key prefixes, ours and detect-secrets' pattern set). Kinds run from the most to the least
specific, so a card number is never taken for a phone number. Words in prose ("my password is ...", "call me at",
"order") decide what a bare number or word is. Measured by `python -m bench.redaction`.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

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
    r"sk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Anthropic style
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}"  # Stripe keys, webhook signing secret
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}"  # GitHub
    r"|xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"  # Slack
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}"  # AWS access key id
    r"|AIza[A-Za-z0-9_-]{35}"  # Google API key
    r"|npm_[A-Za-z0-9]{36}"  # npm
    r"|eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"  # JWT (header.payload.signature)
    r")(?![\w-])"
)
# Detectors from detect-secrets (Yelp, Apache-2.0) whose patterns are vendor formats rather than guesses from
# entropy or variable names; they cover vendors nobody here would think to list (Twilio, SendGrid, Mailchimp,
# Discord, Telegram, Square, Artifactory, Azure, PyPI, GitLab, AWS secret keys written next to "aws").
_SCANNER_PLUGINS = (
    "artifactory.ArtifactoryDetector", "aws.AWSKeyDetector", "azure_storage_key.AzureStorageKeyDetector",
    "discord.DiscordBotTokenDetector", "github_token.GitHubTokenDetector", "gitlab_token.GitLabTokenDetector",
    "mailchimp.MailchimpDetector", "openai.OpenAIDetector", "pypi_token.PypiTokenDetector",
    "sendgrid.SendGridDetector", "slack.SlackDetector", "square_oauth.SquareOAuthDetector",
    "stripe.StripeDetector", "telegram_token.TelegramBotTokenDetector", "twilio.TwilioKeyDetector",
)  # fmt: skip
_PRIVATE_KEY = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----\s*)(?!-----)(.+?)(\s*-----END [A-Z ]*PRIVATE KEY-----)", re.S
)
_URL_PASSWORD = re.compile(
    rf"((?<![\w+.-])[a-z][a-z0-9+.-]*://[^\s/:@]+:)(?!{_PLACEHOLDER})([^\s/@]+)(?=@[\w.-]+)", re.I
)
_BEARER = re.compile(rf"\b(Bearer\s+)(?!{_PLACEHOLDER})([A-Za-z0-9._~+/-]+=*)", re.I)
# `password: hunter2`, `"api_key": "..."`, `?token=...`: the name stays (it tells the reader what was there).
_KEY_VALUE = re.compile(
    r"(?<![\w-])((?:[a-z]+[_-]){0,3}(?:password|passwd|pwd|passcode|pin|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key)(?:[_-][a-z]+)*[\"']?\s*([:=])\s*[\"']?)"
    rf"(?!{_PLACEHOLDER})([^\s\"'`,;&<>]*[^\s\"'`,;&<>.!?)\]])",
    re.I,
)
# The same in prose: "my password is Tr0ub4dor&3", "PIN 0913 blocked", "the API key e6aa… was created by ...".
_PASSWORD_WORD = (
    r"pass(?:word|wd|code|phrase)?|pwd?|pin|passwort|kennwort|wachtwoord|mot de passe|contrase[ñn]a|senha"
    r"|(?:(?:changed?|reset|set|updated?) (?:it|mine)|(?:old|new) one)(?= (?:to|is|was) )"
)
_KEY_WORD = r"(?:api[ _-]?|access |secret |auth |private )?(?:key|token)|secret|client secret"
_PROSE_SECRET = re.compile(
    rf"(?<![\w-])(?:(?P<pw>{_PASSWORD_WORD})|(?P<key>{_KEY_WORD}))"
    r"(?P<gap>(?: (?:for|of|on) (?:the |my |our )?[\w-]+(?: [\w-]+)?)?)"
    r"(?P<link> (?:is|was|ist|lautet|est|es|é|è|is now|will be|to)(?= )|:)? [\"'“]?"
    rf"(?!{_PLACEHOLDER})(?P<value>[^\s\"'`”,;<>()]+)",
    re.I,
)
_PROSE_WORDS = frozenset(
    "a an the my your our his her their this that it is was not no too so very still also now being been what how why"
    " when where which who wrong incorrect invalid expired correct right fine ok okay weak strong long short required"
    " needed missing blocked locked changed reset forgotten lost same different new old empty blank case sensitive"
    " requirements rules field screen link".split()
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
    # After `=` (code, URLs, config) anything is a value; after `:` the value must not read like a word, unless it
    # stands alone after a password's name ("new password: sunshine" but not "Password: what are the rules?").
    if len(value) < 4:
        return None
    if m.group(2) == ":" and not _looks_random(value):
        alone = re.match(r"\s*(?:$|\n|[.,;!(])", m.string[m.end() :])
        if not (alone and re.search(r"pass|pwd", m.group(1), re.I) and value.lower() not in _PROSE_WORDS):
            return None
    return m.group(1) + PLACEHOLDERS["secret"]


def _prose_secret(m: re.Match[str]) -> str | None:
    """Accept a value after a secret's name only when it cannot be a word of the sentence.

    A password must hold a digit or a symbol or inner capitals ("my password is wrong" stays); a PIN or passcode
    may be 4-8 digits, but not after "to" ("change my pin to 1234" is a request, CLINC150 is full of them); a key or
    token must be long and mix letters and digits ("the token expired" stays). "Changed it to …" counts only in a
    message that speaks of a password.
    """
    value = m.group("value").rstrip(".,?:")
    link = (m.group("link") or "").strip().lower()
    if m.group("gap") and link not in ("is", "was", ":"):
        return None
    if m.group("key"):
        ok = len(value) >= 16 and bool(re.search(r"\d", value)) and bool(re.search(r"[A-Za-z]", value))
    else:
        word = m.group("pw").lower()
        digits = value.isdigit() and 4 <= len(value) <= 8 and link != "to" and word.startswith(("pin", "passc"))
        mixed = len(value) >= 6 and bool(re.search(r"[A-Za-z]", value)) and _looks_random(value)
        ok = digits or (mixed and not re.fullmatch(r"[\d./-]+|v?\d+(?:\.\d+)+", value))
        if " " in word and not re.search(r"pass|pwd|contrase|senha|kennwort", m.string, re.I):
            ok = False  # "changed it to …" about something that is not a password
    if not ok or value.lower() in _PROSE_WORDS:
        return None
    start = m.start("value") - m.start()
    return m.group()[:start] + PLACEHOLDERS["secret"] + m.group()[start + len(value) :]


@functools.cache
def _scanner_patterns() -> tuple[re.Pattern[str], ...]:
    """detect-secrets' vendor patterns, imported on first use (the package takes ~0.2 s to import)."""
    patterns: list[re.Pattern[str]] = []
    for name in _SCANNER_PLUGINS:
        module, cls = name.rsplit(".", 1)
        plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), cls)
        patterns += plugin.denylist
    return tuple(patterns)


def _scanned_secrets(text: str) -> tuple[str, int]:
    """Replace what detect-secrets' vendor patterns find: the secret group when there is one, else the match."""
    spans: list[tuple[int, int]] = []
    for pattern in _scanner_patterns():
        for m in pattern.finditer(text):
            groups = [g for g in range(1, (pattern.groups or 0) + 1) if m.group(g) and len(m.group(g)) >= 8]
            start, end = m.span(groups[-1]) if groups else m.span()
            while start < end and text[start] in " \t\n=:\"'":  # Artifactory's patterns take their delimiters
                start += 1
            while end > start and text[end - 1] in " \t\n\"'":
                end -= 1
            if end - start >= 8 and PLACEHOLDERS["secret"] not in text[start:end]:
                spans.append((start, end))
    return _replace_spans(text, spans, PLACEHOLDERS["secret"])


def _replace_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> tuple[str, int]:
    """`text` with each span replaced by `placeholder`; overlapping spans become one placeholder."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    out: list[str] = []
    pos = 0
    for start, end in merged:
        out += [text[pos:start], placeholder]
        pos = end
    return "".join([*out, text[pos:]]), len(merged)


# --- email ---------------------------------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9_%+-][A-Za-z0-9._%+-]*(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b"
)
# Addresses written to dodge harvesters: "jane dot doe at example dot com", "m.garcia(at)example.es",
# "lucia punto fernandez arroba example punto es", "kate.murphy @ example . ie".
_AT = r"(?:[ \t]*[\[({<][ \t]*(?:at|@)[ \t]*[\])}>][ \t]*|[ \t]+(?:at|arroba)[ \t]+|[ \t]+@[ \t]+|@)"
_DOT = r"(?:[ \t]*[\[({<][ \t]*(?:dot|\.)[ \t]*[\])}>][ \t]*|[ \t]+(?:dot|punto)[ \t]+|[ \t]+\.[ \t]+|\.)"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_+-]*[A-Za-z0-9])?"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?<![\w.@%+-])(?P<local>{_LABEL}(?:{_DOT}{_LABEL}){{0,3}})(?P<at>{_AT})"  # bounded: "a dot a dot …" is linear
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL}){{0,3}}{_DOT}[A-Za-z]{{2,12}})\b",
    re.I,
)
_COMMON_TLDS = frozenset("com org net edu gov io co biz info me app dev ai eu us uk".split())


def _obfuscated_email(m: re.Match[str]) -> str | None:
    """Accept a spelled-out address only when it cannot be a sentence ("look at example.com" stays).

    An `@` or a bracketed "(at)" is enough; a bare " at " needs a spelled "dot" in the domain or a local part that
    no sentence has (a dot, digit, underscore or plus: "j.smith at example.com"), and a real top-level domain.
    """
    at, local, domain = m.group("at").strip().lower(), m.group("local"), m.group("domain")
    spelled_dot = re.search(r"[\[({<]|\s", domain) is not None
    if at == "@" and not spelled_dot and not re.search(r"\s", m.group("at")):
        return None  # a plain address: _EMAIL's business (it failed there for a reason)
    if at in ("at",):
        tld = re.split(r"\W+", domain)[-1].lower()
        if not (spelled_dot or re.search(r"[._+\d]", local)) or not (len(tld) == 2 or tld in _COMMON_TLDS):
            return None
    return PLACEHOLDERS["email"]


def _replace_obfuscated_emails(text: str) -> tuple[str, int]:
    """Like `_sub`, but a rejected match is retried a character on.

    In "reach me at m.garcia(at)example.es" the first match is "me at m.garcia"; skipping past it would skip the
    address too.
    """
    out: list[str] = []
    pos = n = search_from = 0
    while (m := _OBFUSCATED_EMAIL.search(text, search_from)) is not None:
        if _obfuscated_email(m) is None:
            search_from = m.start() + 1
            continue
        out += [text[pos : m.start()], PLACEHOLDERS["email"]]
        pos = search_from = m.end()
        n += 1
    return "".join([*out, text[pos:]]), n


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
_IBAN_START = re.compile(r"\b[A-Z]{2}\d{2}[ -]?[A-Z0-9]", re.I)
_IBAN_PREFIX = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4})*[ -]?$")


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
        elif not (text[i] in " -" and chars and i + 1 < len(text) and text[i + 1].isalnum()):
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
_DOTTED_CARD = re.compile(r"(?<![\w.,])\d{4}(?:\.\d{4}){2,3}(?:\.\d{1,3})?(?![\w]|[.,]\d)")  # 4111.1111.1111.1111
_DIGIT_RUN = re.compile(r"(?<![\w+.,/-])\d++(?:[ -]\d++)*+(?![\w]|[.,/]\d)")


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card_shaped(sizes: list[int]) -> bool:
    """Printed card layouts: unbroken, groups of four (last may be shorter), Amex/Diners 4-6-5 / 4-6-4, digit by digit.

    Only these: "20240315-00042" or an order number 112-4456781-9920134 passes Luhn one time in ten.
    """
    return len(sizes) == 1 or all(n == 4 for n in sizes[:-1]) or sizes in ([4, 6, 5], [4, 6, 4]) or max(sizes) == 1


def _cards(m: re.Match[str]) -> str | None:
    run = m.group()
    if _continues_iban(m.string[: m.start()]):
        return None
    spans = [(g.start(), g.end()) for g in re.finditer(r"\d+", run)]
    digits = [run[a:b] for a, b in spans]
    chosen: list[tuple[int, int]] = []
    # Longest card-shaped window first, so "2026-11-03 4111 1111 1111 1111" is not cut as "11-03 4111 1111 1111"
    # when that happens to pass Luhn too. Card numbers start with 2-6 (Visa, Mastercard, Amex, Discover, JCB,
    # Diners, UnionPay, Maestro); timestamps and ACH or order numbers starting 0, 1, 7-9 are left alone.
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
            if any(a <= j and i <= b for a, b in chosen) or not _card_shaped([len(d) for d in digits[i : j + 1]]):
                continue
            number = "".join(digits[i : j + 1])
            if number[0] in "23456" and _luhn(number):
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
_VERSION_BEFORE = re.compile(
    r"\b(?:v|ver|version|release|build|firmware|fw|sdk|app|ios|android|chrome|firefox|safari|edge)\.?\s*$", re.I
)


def _ipv4(m: re.Match[str]) -> str | None:
    """An address, unless it is a version ("firmware 10.2.3.4") or a network ("10.0.0.0/8" names no host)."""
    if _VERSION_BEFORE.search(m.string[max(0, m.start() - 12) : m.start()]) or re.match(r"/\d", m.string[m.end() :]):
        return None
    return PLACEHOLDERS["ip"]


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
# A maximal run of digits, spaces, dots, dashes, slashes and parentheses; whether it is a phone number is decided
# on the whole run, so an amount or a list of numbers is never cut into a phone-sized piece.
_PHONE_RUN = re.compile(r"(?<![\w#£$€¥+.,/-])(?:\+ ?|(?<!\d[ .()/-]))[\d(][\d ()./-]*+")
_CURRENCY_BEFORE = re.compile(r"[£$€¥₹]\s?$|\b(?:EUR|USD|GBP|R\$)\s?$", re.I)
_CURRENCY_AFTER = re.compile(r"^\s?(?:EUR|USD|GBP|CHF|euros?|dollars?|pounds?|quid|bucks)\b", re.I)
# What the words before a number say it is. A phone cue wins over a reference cue ("call ref desk on ...").
_PHONE_CUE = re.compile(
    r"\b(?:call|ring|phone|tel|telephone|mobile|mobil|cell|cel|celular|móvil|portable|handy|text|sms|whatsapp|fax"
    r"|number|numéro|número|numero|nummer|reach|contact|office|ph|no|携帯)\b[^\d\n]{0,25}$",
    re.I,
)
_REFERENCE_CUE = re.compile(
    r"(?:\b(?:order|ticket|invoice|inv|id|ref|reference|transaction|txn|account|acct|sku|tracking|case|batch|policy"
    r"|serial|vat|registration|version|v|build|firmware|release)\b|#)[^\w\n.?!]{0,3}(?:\w+[^\w\n.?!]{1,3})?$",
    re.I,
)
_REFERENCE_NUMBER = re.compile(
    r"\b(?:order|ticket|invoice|account|vat|tracking|case|policy|reference|serial|registration|transaction)"
    r"\s+(?:number|no|nr|num)\b",
    re.I,
)
_DATE = re.compile(r"\b(?:\d{1,2}([./-])\d{1,2}\1(?:19|20)\d\d|(?:19|20)\d\d([./-])\d{1,2}\2\d{1,2})\b")
# Countries whose numbering plans decide a number written without its country code: where the customers
# write from. A run valid in none of them is not taken for a phone number, however it is grouped.
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "IE", "PL", "SE", "IN", "BR", "AU", "JP",
                  "MX", "SG", "ZA", "AE")  # fmt: skip


def _valid_somewhere(run: str) -> bool:
    """Whether libphonenumber (Google's numbering-plan metadata) finds a real number in one of the regions."""
    for region in _PHONE_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(run, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _is_phone(run: str, before: str, after: str) -> bool:
    digits = re.sub(r"\D", "", run)
    groups = re.findall(r"\d+", run)
    if run.startswith("+"):
        return 8 <= len(digits) <= 15
    if run.startswith("00") and len(groups) > 1 and len(groups[0]) <= 5:  # 00 44 20 7946 0321
        return 8 <= len(digits) - 2 <= 15
    if not 9 <= len(digits) <= 12 or _CURRENCY_BEFORE.search(before) or _CURRENCY_AFTER.match(after):
        return False
    if _DATE.search(run) or ("." in run and min(map(len, groups)) == 1):  # 01.04.2023, 5.12.0 (51200)
        return False
    context = _REFERENCE_NUMBER.sub("ref", before[-40:])  # "VAT number is DE 123456789": a reference, not a phone
    cue = _PHONE_CUE.search(context) is not None
    if not cue and _REFERENCE_CUE.search(context[-30:]):
        return False
    if len(groups) == 1:  # unbroken: the national trunk form (07700900123), or any digits where a cue says phone
        if not (cue or (digits[0] == "0" and len(digits) in (10, 11))):
            return False
    elif max(map(len, groups)) > 8 or all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):  # years
        return False
    seps = set(re.sub(r"[\d()]", "", run))
    thousands = len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    if thousands and (seps <= {".", ","} or len(groups[0]) < 3):  # 1.250.000.000, 1 250 000 000
        return False
    return _valid_somewhere(run)


def _phones(m: re.Match[str]) -> str | None:
    run = m.group()
    stripped = run.rstrip(" .-(/")
    lead = ""
    while stripped.startswith("((") or (stripped.startswith("(") and ")" not in stripped):  # "((415) 555-0100)"
        lead, stripped = lead + "(", stripped[1:]
    if stripped.count(")") > stripped.count("("):
        stripped = stripped.rstrip(")")
    if not stripped or not (stripped[-1].isdigit() or stripped.endswith(")")):
        return None
    start, end = m.start() + len(lead), m.start() + len(lead) + len(stripped)
    before, after = m.string[max(0, start - 60) : start], m.string[end : end + 20]  # all the rules look at
    if _continues_iban(before):
        return None
    if _is_phone(stripped, before, after):
        return lead + PLACEHOLDERS["phone"] + run[len(lead) + len(stripped) :]
    pieces = re.split(r"(\s*/\s*)", stripped)
    if not 3 <= len(pieces) <= 7:  # "040 / 23 45 67 89" is one number, "+44 20 7946 0321 / 020 7946 0321" two
        return None
    found = False
    for i in range(0, len(pieces), 2):
        at = start + sum(map(len, pieces[:i]))
        if pieces[i] and _is_phone(pieces[i], m.string[max(0, at - 60) : at], m.string[at + len(pieces[i]) :][:20]):
            pieces[i], found = PLACEHOLDERS["phone"], True
    return lead + "".join(pieces) + run[len(lead) + len(stripped) :] if found else None


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
    ("secret", _sub(_PRIVATE_KEY, "secret", lambda m: m.group(1) + PLACEHOLDERS["secret"] + m.group(3))),
    ("secret", _sub(_TOKEN, "secret")),
    ("secret", _scanned_secrets),
    ("secret", _sub(_URL_PASSWORD, "secret", lambda m: m.group(1) + PLACEHOLDERS["secret"])),
    ("secret", _sub(_BEARER, "secret", _bearer)),
    ("secret", _sub(_KEY_VALUE, "secret", _key_value)),
    ("secret", _sub(_PROSE_SECRET, "secret", _prose_secret)),
    ("email", _sub(_EMAIL, "email")),
    ("email", _replace_obfuscated_emails),
    ("iban", _replace_ibans),
    ("card", _sub(_DOTTED_CARD, "card", _cards)),
    ("card", _sub(_DIGIT_RUN, "card", _cards)),
    ("ip", _sub(_IPV6_CANDIDATE, "ip", _ipv6)),
    ("ip", _sub(_IPV4, "ip", _ipv4)),
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
