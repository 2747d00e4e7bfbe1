"""docgap core: settings, storage, embeddings, vector store, LLM client and the CLI.

The stage packages (`ingest`, `clustering`, `retrieval`, `reports`) and the front ends (`api`, `web`) build on
this package; it holds what all of them share and nothing stage-specific.
"""

__version__ = "0.1.0"
