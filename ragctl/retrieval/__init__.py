"""Retrieval for the chain: dense (Chroma), keyword (BM25) and the two fused, optionally restricted to the
documents a question names by title, with the evidence needed to abstain.

corpus   the collection's chunks, read once when the chain loads (for BM25 and document titles)
keyword  BM25 over the chunks' embedded text (bm25s)
titles   which documents a question names (company, year, quarter, file name)
fusion   reciprocal rank fusion
rerank   an optional reranker that orders the fused candidates: a /rerank endpoint or the chain's LLM
search   the retriever the chain calls
"""

from ragctl.retrieval.search import Hits, Retriever

__all__ = ["Hits", "Retriever"]
