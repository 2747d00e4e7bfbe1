"""Cleaning shared by all sources: drop quoted replies, signatures, greetings and sign-offs.

What remains is the customer's own words, which is what we embed and show. The rules are deliberately
conservative: a line is removed only when it clearly is boilerplate.
"""

from __future__ import annotations

import hashlib
import re

_QUOTE_HEADER = re.compile(r"^\s*(On .{3,200} wrote:|-{2,}\s*Original Message\s*-{2,}|From: .+)\s*$", re.I)
_SIGNATURE_START = re.compile(
    r"^\s*(--\s*|sent from my \w+.*|(kind |best |warm )?regards,?|thanks?( you)?( so much)?,?|cheers,?|best,?"
    r"|many thanks,?|thx,?)\s*$",
    re.I,
)
# A greeting is "Hi", "Hello team", "Dear Fernpay support" … up to three words, closed by , ! : or a line end.
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening)|bonjour|hola|hallo)\b"
    r"([ \t]+[\w.'’-]+){0,3}[ \t]*([,!:]|\n)\s*",
    re.I,
)
_WHITESPACE = re.compile(r"[ \t]+")


def clean_text(text: str) -> str:
    """The customer's message without quoted history, signature and greeting, whitespace normalised."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for line in lines:
        if _QUOTE_HEADER.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        if _SIGNATURE_START.match(line) and kept:
            break
        kept.append(line)
    body = "\n".join(kept).strip()
    body = _GREETING.sub("", body, count=1) if _GREETING.match(body) and len(body) > 25 else body
    paragraphs = [_WHITESPACE.sub(" ", p).strip() for p in re.split(r"\n\s*\n", body)]
    return "\n".join(p.replace("\n ", "\n") for p in paragraphs if p).strip()


def author_hash(author: str | None) -> str | None:
    """A stable pseudonym: lets us count distinct askers without storing who they are."""
    if not author:
        return None
    return hashlib.sha256(author.strip().lower().encode()).hexdigest()[:16]


def email_domain(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().lower().rstrip(">") or None
