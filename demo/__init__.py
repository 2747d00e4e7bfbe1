"""The demo data set: a fictional fintech SaaS (Fernpay), its help center, and its customers' questions."""

from pathlib import Path

DEMO_DIR = Path(__file__).parent
HELPCENTER_DIR = DEMO_DIR / "helpcenter"
