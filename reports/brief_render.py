"""The briefs as JSON, Markdown, HTML and PDF.

One HTML body per brief (`*_brief.html.j2`, autoescaped: labels and questions are customer text) is both what the
page shows inside the site's layout and what the standalone print document wraps (`brief_print.html.j2`, with
`brief.css` inline), and the PDF is that print document laid out by WeasyPrint: the PDF is the page. Markdown
escapes every piece of customer or operator text with `reports.weekly.md_text`.

WeasyPrint is imported on first use: it needs Pango from the system (Debian: `libpango-1.0-0`,
`libpangoft2-1.0-0`), and a machine without it still renders every other format. It is never allowed to fetch
anything: the print document is self-contained, and its URL fetcher refuses every request.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports.account_brief import AccountBrief
from reports.executive_brief import ExecutiveBrief
from reports.weekly import md_text

TEMPLATES = Path(__file__).parent / "templates"
Brief = AccountBrief | ExecutiveBrief


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs are missing; the message says what to install."""


def to_json(value: Any) -> Any:
    """A brief (or any of its parts) as JSON-ready data: dataclasses → dicts, dates → ISO strings, tuples → lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def local_link(href: str) -> str:
    """A link of ours (a site path); anything else becomes no link at all (never `javascript:` or another site)."""
    return href if href.startswith("/") and not href.startswith("//") and "\\" not in href else ""


def refs(ids: list[int]) -> str:
    """Question ids as people cite them: "#12, #15"."""
    return ", ".join(f"#{i}" for i in ids)


def bar_heights(values: list[float], height: float) -> list[float]:
    top = max((abs(v) for v in values), default=0) or 1
    return [round(abs(v) / top * height, 1) for v in values]


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=md_text, local=local_link, heights=bar_heights, refs=refs)
    return env


def _name(brief: Brief) -> str:
    return "account_brief" if isinstance(brief, AccountBrief) else "executive_brief"


def render_markdown(brief: Brief) -> str:
    return _env().get_template(f"{_name(brief)}.md.j2").render(b=brief).strip() + "\n"


def render_body(brief: Brief, base: str = "") -> Markup:
    """The brief's HTML (escaped), for a page to place in its layout; links are site paths prefixed with `base`."""
    return Markup(_env().get_template(f"{_name(brief)}.html.j2").render(b=brief, base=base.rstrip("/")))


def brief_css() -> str:
    return (TEMPLATES / "brief.css").read_text()


def render_print_html(brief: Brief, base: str = "") -> str:
    """A standalone HTML document of the brief (styles inline, nothing fetched): the HTML export and the PDF's source.

    `base` (e.g. `https://docgap.example.com`) makes its links absolute, so they work from a file or a PDF.
    """
    title = f"{brief.account} — account brief" if isinstance(brief, AccountBrief) else "Executive brief"
    return _env().get_template("brief_print.html.j2").render(title=title, css=Markup(brief_css()),
                                                             body=render_body(brief, base))  # fmt: skip


def html_to_pdf(html: str) -> bytes:
    """Lay out a standalone HTML document as PDF with WeasyPrint (BSD-3-Clause)."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: Pango/GObject not found by cffi
        raise PdfUnavailable(
            "PDF export needs WeasyPrint and the Pango library: `pip install weasyprint` and, on Debian/Ubuntu, "
            f"`apt-get install libpango-1.0-0 libpangoft2-1.0-0` ({exc})"
        ) from exc
    nothing = URLFetcher(allowed_protocols=())  # every scheme refused: file:, http:, data: alike
    return HTML(string=html, url_fetcher=nothing).write_pdf()  # type: ignore[no-any-return]


def render_pdf(brief: Brief, base: str = "") -> bytes:
    return html_to_pdf(render_print_html(brief, base))


FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".pdf": "pdf",
           ".json": "json"}  # fmt: skip
"""File suffix → export format (`docgap brief ... --out FILE`)."""


def export(brief: Brief, fmt: str, base: str = "") -> bytes:
    """The brief as a file's bytes in `fmt` ("markdown", "html", "pdf" or "json")."""
    import json

    if fmt == "markdown":
        return render_markdown(brief).encode()
    if fmt == "html":
        return render_print_html(brief, base).encode()
    if fmt == "pdf":
        return render_pdf(brief, base)
    if fmt == "json":
        return (json.dumps(to_json(brief), indent=1, ensure_ascii=False) + "\n").encode()
    raise ValueError(f"unknown format {fmt!r}: one of markdown, html, pdf, json")
