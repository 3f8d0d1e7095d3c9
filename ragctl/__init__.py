"""ragctl: from a folder of documents to a versioned, evaluated and promoted RAG chain, tracked in MLflow."""

__version__ = "0.1.0"
