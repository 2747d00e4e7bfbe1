"""The bottom layer: settings, the database and its models, embeddings, the vector store and the LLM client.

Everything above builds on it: the stages (`ingest`, `clustering`, `retrieval`, `reports`), the use cases
(`usecases`) and the front ends (`cli`, `api`, `web`, `server`). It imports none of them.
"""

__version__ = "0.1.0"
