"""Retrieval: chunking docs, the doc index, answering with citations, and judging topic coverage."""
