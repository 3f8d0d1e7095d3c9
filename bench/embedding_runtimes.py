"""The embedding floor by runtime: the packaged int8 MiniLM ONNX file run by onnxruntime (what ragctl uses) and
by OpenVINO (reads the same ONNX file; installs from PyPI, no compile), side by side in one process on the
same chunks, batch 1, same tokenizer and pooling. Reports chunks/s per thread count and the lowest cosine
between each runtime's vectors and onnxruntime's (adopt another runtime only if it is faster at >= 0.999).

OpenVINO won (bench/README.md) and became ragctl's default runtime (`embedding.runtime`):
    .venv/bin/python bench/embedding_runtimes.py CHROMA_DIR COLLECTION [--limit 800]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ragctl.env import apply_offline_defaults

Run = Callable[[dict[str, Any]], Any]


def onnxruntime_runner(path: str, threads: int) -> Run:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return lambda feeds: session.run(None, feeds)[0]


def openvino_runner(path: str, threads: int, precision: str | None) -> Run:
    import openvino as ov

    core = ov.Core()
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    compiled = core.compile_model(core.read_model(path), "CPU", config)
    request = compiled.create_infer_request()
    return lambda feeds: request.infer(feeds)[compiled.output(0)]


def embed(run: Run, tokenizer: Any, texts: list[str]) -> tuple[np.ndarray, float]:
    vectors = []
    started = time.perf_counter()
    for text in texts:
        encoded = tokenizer.encode(text)
        ids = np.array([encoded.ids], dtype=np.int64)
        mask = np.array([encoded.attention_mask], dtype=np.int64)
        hidden = run({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum()
        vectors.append(pooled[0] / np.linalg.norm(pooled[0]))
    return np.array(vectors), time.perf_counter() - started


def main() -> None:
    apply_offline_defaults()
    import chromadb

    from ragctl.components.embeddings import load_tokenizer, packaged_model_path
    from ragctl.config.model import EmbeddingConfig

    parser = argparse.ArgumentParser()
    parser.add_argument("chroma_dir")
    parser.add_argument("collection")
    parser.add_argument("--limit", type=int, default=800)
    args = parser.parse_args()
    collection = chromadb.PersistentClient(args.chroma_dir).get_collection(args.collection)
    texts: list[str] = collection.get(include=["documents"], limit=args.limit)["documents"] or []
    path = str(packaged_model_path())
    tokenizer = load_tokenizer(EmbeddingConfig())
    runners: dict[str, Callable[[int], Run]] = {
        "onnxruntime int8": lambda t: onnxruntime_runner(path, t),
        "openvino int8, f32 activations": lambda t: openvino_runner(path, t, "f32"),
        "openvino int8, bf16 activations": lambda t: openvino_runner(path, t, "bf16"),
        "openvino int8, the CPU plugin's default precision (ragctl's setting)": lambda t: openvino_runner(
            path, t, None
        ),
    }
    reference: np.ndarray | None = None
    print(f"{len(texts)} chunks, batch 1\n")
    print("| runtime | threads | chunks/s | min cosine vs onnxruntime |\n|---|---:|---:|---:|")
    for threads in (1, 2):
        for name, make in runners.items():
            run = make(threads)
            embed(run, tokenizer, texts[:20])  # warm up
            vectors, seconds = embed(run, tokenizer, texts)
            if reference is None:
                reference = vectors
            cosine = float(np.min(np.sum(vectors * reference, axis=1)))
            print(f"| {name} | {threads} | {len(texts) / seconds:.1f} | {cosine:.5f} |", flush=True)


if __name__ == "__main__":
    main()
