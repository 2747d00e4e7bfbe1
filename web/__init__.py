"""Server-rendered pages for people: the gap board, topics, chat, accounts and the report archive."""

from pathlib import Path

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
