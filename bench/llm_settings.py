"""The packaged local LLM on the demo's real prompts under each llama.cpp setting worth trying on this CPU,
side by side in one process: answer latency, prefill speed, how much of each prompt the slot's prompt cache
reused, and whether the greedy answers stay the same text as with ragctl's settings.

The prompts are the ones the chain sent during an evaluation (the LLM spans of its traces), so they carry
the real retrieved context. Usage:
    python bench/llm_settings.py --store sqlite:///path/.ragctl/mlflow.db [--experiment ragctl-demo]
Writes bench/results/llm_settings.json.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# name -> CommonParams overrides; "ragctl" is what components/llms.py sets (llama.cpp's defaults otherwise:
# threads = cores, batch 2048, ubatch 512, flash attention auto, the slot's prompt cache on).
VARIANTS: dict[str, dict[str, Any]] = {
    "ragctl": {},
    "1 thread": {"threads": 1},
    "prompt cache off": {"cache_prompt": False},
    "batch/ubatch 64": {"n_batch": 64, "n_ubatch": 64},
    "batch/ubatch 128": {"n_batch": 128, "n_ubatch": 128},
    "ubatch 1024": {"n_ubatch": 1024},
    "flash attention off": {"flash_attn_type": 0},
    "no repacked weights": {"no_extra_bufts": True},
}


def prompts_of(store: str, experiment: str, limit: int) -> list[str]:
    import mlflow

    mlflow.set_tracking_uri(store)
    found = mlflow.get_experiment_by_name(experiment)
    if found is None:
        raise SystemExit(f"no experiment {experiment!r} in {store}")
    traces = mlflow.search_traces(locations=[found.experiment_id], return_type="list", max_results=500)
    seen: dict[str, None] = {}
    for trace in traces:
        for span in trace.data.spans:
            if span.span_type == "LLM" and isinstance(span.inputs, dict) and span.inputs.get("prompt"):
                seen.setdefault(span.inputs["prompt"], None)
    return sorted(seen)[:limit]


def server(overrides: dict[str, Any]) -> Any:
    import xllamacpp

    from ragctl.components.llms import resolve_gguf
    from ragctl.config.model import LLMConfig

    config = LLMConfig()
    params = xllamacpp.CommonParams()
    params.model.path = str(resolve_gguf(config.model))
    params.n_ctx = config.context_window
    params.n_parallel = 1
    params.verbosity = -1
    params.sampling.seed = 42
    params.cache_ram_mib = 0
    params.api_keys = [secrets.token_hex(16)]
    for key, value in overrides.items():
        if key == "threads":
            params.cpuparams.n_threads = value
            params.cpuparams_batch.n_threads = value
        else:
            setattr(params, key, value)
    return xllamacpp.Server(params)


def measure(name: str, overrides: dict[str, Any], prompts: list[str]) -> dict[str, Any]:
    from ragctl.config.model import LLMConfig

    config = LLMConfig()
    began = time.perf_counter()
    llm = server(overrides)
    load = time.perf_counter() - began

    def body(prompt: str) -> dict[str, Any]:
        return {
            "prompt": prompt,
            "max_tokens": config.max_tokens,
            "temperature": config.temperature,
            "stop": config.stop,
            "repeat_penalty": config.repeat_penalty,
        }

    llm.handle_completions(body(prompts[0]))  # as a loaded chain has answered its test question
    seconds, answers, speeds, reused, sizes = [], [], [], [], []
    for prompt in prompts:
        began = time.perf_counter()
        raw = llm.handle_completions(body(prompt))
        seconds.append(time.perf_counter() - began)
        answers.append(raw["choices"][0]["text"])
        timings = raw.get("timings") or {}
        speeds.append(timings.get("prompt_per_second") or 0.0)
        reused.append(timings.get("cache_n") or 0)
        sizes.append((raw.get("usage") or {}).get("prompt_tokens") or 0)
    ordered = sorted(seconds)
    return {
        "variant": name,
        "settings": overrides,
        "load_s": round(load, 2),
        "p50_s": round(statistics.median(seconds), 3),
        "p95_s": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3),
        "total_s": round(sum(seconds), 2),
        "prefill_tokens_per_s": round(statistics.median(speeds), 1),
        "prompt_tokens_median": statistics.median(sizes),
        "cached_tokens_median": statistics.median(reused),
        "answers": answers,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True, help="tracking URI holding an evaluation's traces")
    parser.add_argument("--experiment", default="ragctl-demo")
    parser.add_argument("--limit", type=int, default=29)
    opts = parser.parse_args()
    prompts = prompts_of(opts.store, opts.experiment, opts.limit)
    if not prompts:
        raise SystemExit("no LLM prompts in the traces: run an evaluation first")
    import xllamacpp

    rows = []
    for name, overrides in VARIANTS.items():
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows.append(measure(name, overrides, prompts))
    base = rows[0]["answers"]
    for row in rows:
        row["same_answers"] = sum(a == b for a, b in zip(row.pop("answers"), base))
    result = {"prompts": len(prompts), "build": xllamacpp.get_system_info().strip(), "rows": rows}
    out = ROOT / "bench" / "results" / "llm_settings.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"{len(prompts)} prompts; llama.cpp build: {result['build']}")
    columns = ["setting", "load (s)", "p50 (s)", "p95 (s)", "total (s)", "prefill tok/s", "prompt tok", "cached tok"]
    print("| " + " | ".join([*columns, "same answers"]) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['variant']} | {r['load_s']} | {r['p50_s']} | {r['p95_s']} | {r['total_s']} | "
            f"{r['prefill_tokens_per_s']} | {r['prompt_tokens_median']:.0f} | {r['cached_tokens_median']:.0f} | "
            f"{r['same_answers']}/{len(prompts)} |"
        )


if __name__ == "__main__":
    main()
