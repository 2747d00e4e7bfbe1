import shutil
from pathlib import Path

from sqlmodel import Session, func, select

from core.models import Chunk, Document
from demo import HELPCENTER_DIR
from retrieval.chunking import chunk_markdown
from usecases.pipeline import import_docs


def test_chunks_keep_sections_and_anchors() -> None:
    chunks = chunk_markdown(
        "# Cards\n\nIntro text about cards here.\n\n## Changing your PIN\n\nGo to Cards and pick Change PIN.\n"
    )
    assert [c.section for c in chunks] == ["Cards", "Cards › Changing your PIN"]
    assert chunks[1].anchor == "changing-your-pin"


def test_reindex_only_changed_pages_and_drop_deleted(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    shutil.copytree(HELPCENTER_DIR / "cards", docs)
    first = import_docs(fresh_runtime, docs)
    assert first.added == len(list(docs.glob("*.md"))) and first.ok
    again = import_docs(fresh_runtime, docs)
    assert again.added == 0 and again.updated == 0 and again.unchanged == first.added
    page = docs / "card-delivery.md"
    page.write_text(page.read_text() + "\n## Delivery to Antarctica\n\nWe deliver to research stations in 60 days.\n")
    (docs / "pin-management.md").unlink()
    third = import_docs(fresh_runtime, docs)
    assert third.updated == 2 and third.unchanged == first.added - 2
    with Session(fresh_runtime.engine) as s:
        urls = set(s.exec(select(Document.url)).all())
        n_chunks = s.exec(select(func.count()).select_from(Chunk)).one()
    assert "pin-management.md" not in urls and "card-delivery.md" in urls
    assert fresh_runtime.vectors.count("doc_chunks") == n_chunks, "vector store matches the database"
