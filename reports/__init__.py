"""Summaries for people: the weekly recurring-question report (account briefs and doc tickets come later)."""
