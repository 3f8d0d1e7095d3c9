"""The whole lifecycle through the real stack: pypdf, the packaged MiniLM, Chroma, MLflow on SQLite and
Gemma 3 270M via llama.cpp. A module fixture builds it once (ingest -> assemble -> evaluate -> register ->
promote); each test reads it, or changes it only in ways it undoes, so tests run alone or in any order."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ragctl.cli.app import app
from tests import pdfs, servers
from tests.conftest import SAMPLE_DOCS, require

pytestmark = pytest.mark.e2e
MODEL = "ragctl-e2e-chain"


@dataclass
class Lifecycle:
    """The project folder and each stage's --json result, as the fixture ran them."""

    root: Path
    commit: str  # the project's git HEAD when it was assembled
    ingest: dict
    assemble: dict
    evaluate: dict
    register: dict
    promote: dict

    @property
    def model_uri(self) -> str:
        return str(self.assemble["model_uri"])


def _git_init(root: Path) -> str:
    git = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "e2e project"], check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lifecycle]:
    root = tmp_path_factory.mktemp("project")
    docs = root / "docs"
    shutil.copytree(SAMPLE_DOCS, docs, ignore=shutil.ignore_patterns("README.md", "LICENSE"))
    pdfs.corrupt(docs / "broken.pdf")
    pdfs.encrypted(docs / "locked.pdf")
    (root / "ragctl.yaml").write_text(
        f"""
project: {{name: e2e, experiment: e2e}}
tracking: {{uri: "sqlite:///{root}/state/mlflow.db", artifact_location: {root}/state/artifacts}}
ingestion: {{paths: [docs]}}
vector_store: {{path: state/chroma, collection: e2e}}
evaluation: {{dataset: docs/qa.jsonl, thresholds: {{hit_rate: 0.8, mrr: 0.6, token_f1: 0.15}}}}
registry: {{model_name: {MODEL}}}
"""
    )
    commit = _git_init(root)
    reports = [
        f"--{kind}={root / 'reports' / name}"
        for kind, name in (("junit", "eval.xml"), ("report", "eval.html"), ("summary", "eval.md"))
    ]
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MLFLOW_TRACKING_URI", "RAGCTL_CONFIG", "RAGCTL_CHROMA_PATH", "RAGCTL_CHROMA_HOST"):
            mp.delenv(var, raising=False)
        mp.chdir(root)
        yield Lifecycle(
            root,
            commit,
            ingest=ragctl("ingest"),
            assemble=ragctl("assemble"),
            evaluate=ragctl("evaluate", *reports),
            register=ragctl("register"),
            promote=ragctl("promote", "--alias", "champion", "--version", "1", "--reason", "e2e"),
        )


@pytest.fixture
def project(lifecycle: Lifecycle, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lifecycle's folder as the working directory."""
    monkeypatch.chdir(lifecycle.root)
    return lifecycle.root


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [*args, "--config", str(Path.cwd() / "ragctl.yaml")])


def ragctl(*args: str, code: int = 0) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if result.stdout.strip() else {}


def client(project: Path):  # type: ignore[no-untyped-def]
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{project}/state/mlflow.db")
    return MlflowClient()


def chroma(project: Path):  # type: ignore[no-untyped-def]
    import chromadb

    return chromadb.PersistentClient(str(project / "state" / "chroma")).get_collection("e2e")


def test_ingest_reports_bad_files_and_ingests_the_rest(lifecycle: Lifecycle) -> None:
    project, result = lifecycle.root, lifecycle.ingest
    status = {f["file"]: f for f in result["files"]}
    assert (status["broken.pdf"]["status"], status["broken.pdf"]["outcome"]) == ("failed", "corrupt")
    assert (status["locked.pdf"]["status"], status["locked.pdf"]["outcome"]) == ("failed", "encrypted")
    assert status["normans.pdf"]["pages"] == 6 and status["complexity_theory.pdf"]["pages"] == 9
    assert result["chunks_total"] == sum(f["chunks"] for f in result["files"]) > 50
    run = client(project).get_run(result["run_id"])
    assert run.data.tags["ragctl.stage"] == "ingest"
    assert run.data.metrics["files_failed"] == 2 and run.data.metrics["chunks_total"] == result["chunks_total"]
    assert run.data.params["chunking.chunk_size"] == "200"
    files = json.loads((Path(run.info.artifact_uri.removeprefix("file://")) / "ingest" / "files.json").read_text())
    assert {f["file"] for f in files["files"]} == set(status) and files["summary"] == result["summary"]
    assert run.data.tags["ragctl.manifest_digest"] == result["manifest_digest"]
    assert run.inputs.dataset_inputs, "the corpus is logged as an MLflow dataset input"


def test_reingest_is_idempotent_and_resumes_an_interrupted_file(project: Path) -> None:
    collection = chroma(project)
    before = collection.count()
    again = ragctl("ingest")
    assert {f["file"]: f["status"] for f in again["files"]}["normans.pdf"] == "unchanged"
    assert again["chunks_total"] == before
    # Chunks deleted behind ragctl's back: the count no longer matches the manifest, so the next run finds
    # the file whose chunks are incomplete, redoes it, and gets them back once.
    ids = collection.get(where={"file": "normans.pdf"})["ids"]
    collection.delete(ids=ids[: len(ids) // 2])
    resumed = ragctl("ingest")
    assert {f["file"]: f["status"] for f in resumed["files"]}["normans.pdf"] == "changed"
    assert chroma(project).count() == before
    assert len(set(chroma(project).get()["ids"])) == before


def test_assemble_logs_a_model_from_code_without_machine_paths(lifecycle: Lifecycle) -> None:
    project, result = lifecycle.root, lifecycle.assemble
    run = client(project).get_run(result["run_id"])
    assert run.data.tags["ragctl.ingest_run_id"] == result["ingest_run_id"] != "none"
    assert run.data.params["temperature"] == "0.0" and run.data.params["top_k"] == "3"
    assert "{question}" in run.data.params["prompt.template"]
    # The prompt is a versioned MLflow prompt, linked to the model, and the chain carries its text.
    assert run.data.tags["ragctl.prompt_uri"] == f"prompts:/{MODEL}-prompt/1"
    assert run.data.tags["mlflow.source.git.commit"] == lifecycle.commit, "the project's commit, not ragctl's"
    import mlflow

    local = Path(mlflow.artifacts.download_artifacts(result["model_uri"]))
    flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["model_code_path"].endswith("chain.py"), "logged from code, not pickled"
    assert (local / "code" / "ragctl" / "chain.py").is_file()
    assert str(project) not in json.dumps(flavor["config"]) and "/root" not in json.dumps(flavor["config"])
    assert "xllamacpp==" in (local / "requirements.txt").read_text()


def test_evaluate_gate_fails_with_exit_code_1_and_calibrates_abstention(project: Path, lifecycle: Lifecycle) -> None:
    mixed = project / "mixed.jsonl"
    first = (project / "docs" / "qa.jsonl").read_text().splitlines()[0]
    mixed.write_text(f'{first}\n{{"question": "What is the boiling point of mercury on Mars?", "answerable": false}}\n')
    only = ["--model-uri", lifecycle.model_uri, "--set", f"evaluation.dataset={mixed}"]
    report = ragctl("evaluate", *only, "--set", "evaluation.thresholds.hit_rate=1.01", code=1)
    assert report["passed"] is False and report["questions"] == 2
    # Each question's best retrieval similarity is read from its trace; with answerable and unanswerable
    # items, evaluate suggests the retrieval.min_score that tells them apart.
    assert -1 <= report["metrics"]["retrieval_similarity"] <= 1
    calibration = report["abstention"]
    assert calibration and {calibration["declined"], calibration["answered"]} <= {0.0, 1.0}
    assert 0 <= report["metrics"]["citation_hit"] <= 1


def test_evaluate_passes_through_mlflow_genai_with_traces_and_reports(lifecycle: Lifecycle) -> None:
    project, report = lifecycle.root, lifecycle.evaluate
    out = project / "reports"
    assert report["passed"] is True, report
    assert report["questions"] == 29 and not report["invalid"]
    metrics = report["metrics"]
    for name in ("hit_rate@1", "file_ndcg@3", "recall@3", "precision@3", "rouge_l", "semantic_similarity"):
        assert 0.0 <= metrics[name] <= 1.0, name
    assert metrics["hit_rate"] == metrics["hit_rate@3"] and metrics["tokens_in"] > 100
    assert metrics["generation_p50"] > 0 and metrics["retrieval_p95"] > 0
    import mlflow

    mlflow_client = client(project)
    run = mlflow_client.get_run(report["run_id"])
    assert run.data.tags["ragctl.eval_passed"] == "true" and run.data.metrics["hit_rate_at_3"] == metrics["hit_rate@3"]
    assert run.inputs.dataset_inputs, "the QA set is the run's input"
    model_id = report["model_uri"].removeprefix("models:/")
    # Other evaluations of the same chain log on its LoggedModel too: this run's figures, by run id.
    logged = mlflow.get_logged_model(model_id).metrics or []
    linked = {m.key: m.value for m in logged if m.run_id == report["run_id"]}
    assert linked["hit_rate"] == metrics["hit_rate"]
    # One trace per question, linked to the run and the LoggedModel, with ragctl's scores as assessments.
    traces = mlflow.search_traces(locations=[run.info.experiment_id], run_id=report["run_id"], return_type="list")
    assert len(traces) == 29
    trace = mlflow.get_trace(traces[0].info.trace_id)
    assert trace.info.request_metadata.get("mlflow.modelId") == model_id
    spans = {s.span_type: s for s in trace.data.spans}
    assert spans["CHAIN"].parent_id is None and set(spans) == {"CHAIN", "RETRIEVER", "LLM"}
    documents = spans["RETRIEVER"].outputs
    assert len(documents) == 3 and documents[0]["metadata"]["file"] and documents[0]["page_content"]
    assert "Question:" in spans["LLM"].inputs["prompt"]
    assert spans["LLM"].attributes["mlflow.chat.tokenUsage"]["input_tokens"] > 0
    assessed = {a.name for a in trace.info.assessments}
    assert {"hit_rate_at_3", "token_f1", "rouge_l", "latency"} <= assessed
    # The reports: JUnit valid against its schema, Markdown, and an HTML page a real browser renders.
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "data" / "junit" / "junit-10.xsd")))
    assert schema.validate(etree.parse(str(out / "eval.xml"))), schema.error_log
    assert "ragctl evaluate: ✅ passed" in (out / "eval.md").read_text()
    assert {"eval.xml", "eval.html", "eval.md", "rows.json", "report.json"} <= {
        Path(a.path).name for a in mlflow_client.list_artifacts(report["run_id"], "eval")
    }
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(chromium, "chromium (renders the HTML report)")
    assert chromium
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
            (out / "eval.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert dom.count('class="main-svg"') >= 2, "plotly drew the figures"
    assert "Worst questions" in dom


def test_register_and_promote_under_gates(project: Path, lifecycle: Lifecycle) -> None:
    registered = lifecycle.register
    tags = registered["tags"]
    assert registered["version"] == "1" and tags["ragctl.eval_passed"] == "true"
    assert tags["ragctl.ingest_run_id"] not in ("", "none") and tags["ragctl.assemble_run_id"]
    assert tags["ragctl.prompt_uri"] == f"prompts:/{MODEL}-prompt/1"
    assert tags["ragctl.llm"] == "llama-cpp gemma-3-270m-q4_k_m" and tags["ragctl.embedding"].startswith("onnx-minilm")
    ingest_digest = client(project).get_run(tags["ragctl.ingest_run_id"]).data.tags["ragctl.manifest_digest"]
    assert tags["ragctl.collection_digest"] == ingest_digest, "the collection state it was evaluated on"
    evaluation = client(project).get_run(tags["ragctl.eval_run_id"])
    assert evaluation.data.tags["ragctl.model_uri"] == registered["model_uri"], "the evaluation of that exact model"
    assert float(tags["eval.hit_rate"]) == round(evaluation.data.metrics["hit_rate"], 4)
    version = client(project).get_model_version(MODEL, "1")
    assert "passed" in version.description and tags["ragctl.eval_run_id"] in version.description
    import mlflow

    assert mlflow.get_logged_model(registered["model_uri"].removeprefix("models:/")).name == MODEL
    refused = invoke("promote", "--version", "99")
    assert refused.exit_code == 2 and "no version 99" in refused.output
    promoted = lifecycle.promote
    assert (promoted["previous"], promoted["version"]) == (None, "1")
    assert str(client(project).get_model_version_by_alias(MODEL, "champion").version) == "1"
    params = client(project).get_run(promoted["run_id"]).data.params
    assert params["reason"] == "e2e" and params["from_version"] == "none" and params["who"]
    # Both runs name the chain they acted on as their output model, which keeps them off MLflow's
    # "Evaluation runs" page (it lists the runs without an output model).
    for run_id in (registered["run_id"], promoted["run_id"]):
        (output,) = client(project).get_run(run_id).outputs.model_outputs
        assert registered["model_uri"].endswith(output.model_id)
    found = ragctl("lineage", f"models:/{MODEL}@champion")
    assert (found["version"], found["aliases"]) == ("1", ["champion"])
    assert found["assemble"]["run_id"] == tags["ragctl.assemble_run_id"]
    assert found["ingest"]["run_id"] == tags["ragctl.ingest_run_id"]
    files = {f["file"]: f for f in found["files"]}
    assert set(files) == {"normans.pdf", "complexity_theory.pdf", "normans_crusades_and_arts.txt"}
    assert len(files["normans.pdf"]["sha256"]) == 64
    assert (
        found["evaluations"][0]["run_id"] == tags["ragctl.eval_run_id"] and found["evaluations"][0]["passed"] == "true"
    )
    first = [m for m in found["promotions"] if m["run_id"] == promoted["run_id"]]
    assert [(m["alias"], m["reason"], m["from_version"]) for m in first] == [("champion", "e2e", None)]
    listed = next(v for v in ragctl("models") if v["version"] == "1")
    assert "champion" in listed["aliases"] and listed["collection_digest"] == tags["ragctl.collection_digest"]
    assert "complexity_theory.pdf" in invoke("lineage").output, "the tree names the source files"


def test_fresh_process_loads_the_champion_with_stock_mlflow(project: Path, tmp_path: Path) -> None:
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        "assert 'ragctl' not in sys.modules\n"
        f"m = mlflow.pyfunc.load_model('models:/{MODEL}@champion')\n"
        "print(json.dumps(m.predict(pd.DataFrame({'question': ['Who was Guy\\'s rival?']}))))\n"
    )
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{project}/state/mlflow.db",
        "RAGCTL_CHROMA_PATH": str(project / "state" / "chroma"),
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (answer,) = json.loads(out.stdout.strip().splitlines()[-1])
    assert "Conrad" in answer["answer"]
    assert answer["sources"] and set(answer["sources"][0]) == {"file", "page", "score"}
    # The answer cites the retrieved chunk it comes from: its file, and its page where the file has pages.
    assert (answer["citation"]["file"], answer["citation"]["page"]) in {
        (s["file"], s["page"]) for s in answer["sources"]
    }


def _trace_count(project: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{project}/state/mlflow.db?mode=ro", uri=True) as db:
        return int(db.execute("select count(*) from trace_info").fetchone()[0])


def test_mlflow_models_serve_answers(project: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        "MLFLOW_TRACKING_URI": f"sqlite:///{project}/state/mlflow.db",
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        # served from another folder: the relative index path in the model is redirected at load time
        "RAGCTL_CHROMA_PATH": str(project / "state" / "chroma"),
    }
    serve = [f"{bin_dir}/mlflow", "models", "serve", "-m", f"models:/{MODEL}@champion", "--env-manager", "local"]
    with servers.serve(serve, "/ping", env=env, cwd="/") as port:
        body = json.dumps({"dataframe_records": [{"question": "When was the Duchy of Normandy founded?"}]}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
        )
        traces_before = _trace_count(project)
        with urllib.request.urlopen(request, timeout=120) as response:
            (prediction,) = json.loads(response.read())["predictions"]
        assert "911" in prediction["answer"]
        time.sleep(2)  # traces are written in the background: give a stray one time to land
        assert _trace_count(project) == traces_before, "serving writes no traces unless asked to"
        assert prediction["sources"][0]["file"] == "normans.pdf"
        assert prediction["citation"]["file"] == "normans.pdf" and prediction["citation"]["page"] >= 1
        # A question longer than the LLM's window is the caller's 400, refused before retrieval; it was a
        # 500 from the synthesizer's "Calculated available context size ... was not non-negative".
        # A JSON null got through MLflow's schema check and was asked as the text "None".
        for question, said in [("Who were the Normans? " * 1000, "the question is too long"), (None, "is empty")]:
            body = json.dumps({"dataframe_records": [{"question": question}]}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=120)
            assert refused.value.code == 400
            assert said in json.loads(refused.value.read())["message"]


def test_query_and_status(project: Path) -> None:
    # Evaluated where its store is not: said (it was every item "not in the collection", and an empty store)
    elsewhere = {"RAGCTL_CHROMA_PATH": str(project / "nowhere")}
    nowhere = CliRunner().invoke(app, ["evaluate", "--config", str(project / "ragctl.yaml")], env=elsewhere)
    assert nowhere.exit_code == 3 and "there is no Chroma store at" in nowhere.output, nowhere.output
    assert not (project / "nowhere").exists()
    answer = ragctl("query", "In what country is Normandy located?")
    assert "France" in answer["answer"] and answer["model_uri"].endswith("@champion")
    too_long = invoke("query", "Who were the Normans? " * 1000)
    assert too_long.exit_code == 2 and "shorten it" in too_long.output, too_long.output
    import mlflow

    trace = mlflow.get_trace(answer["trace_id"], flush=True)
    assert [s.span_type for s in trace.data.spans] == ["CHAIN", "RETRIEVER", "LLM"], "ragctl query traces"
    status = ragctl("status")
    assert set(status) >= {"tracking_uri", "experiment", "model_name", "aliases", "collection", "chunks", "last_runs"}
    assert status["aliases"] == {"champion": "1"} and status["collection_state"] == "search index current"
    assert all(status["last_runs"][s] for s in ("ingest", "assemble", "evaluate", "register", "promote"))


def test_a_question_too_long_for_the_llm_is_an_invalid_item_not_a_wrong_answer(
    project: Path, lifecycle: Lifecycle
) -> None:
    """The chain refuses it before answering; evaluate lists it with the reason instead of scoring the
    error as a miss."""
    qa = project / "long.jsonl"
    items = [{"question": "Who was Rollo?", "answer": "a Viking leader"}, {"question": "Who? " * 5000, "answer": "x"}]
    qa.write_text("".join(json.dumps(i) + "\n" for i in items))
    chain = ["--model-uri", lifecycle.model_uri, "--set", f"evaluation.dataset={qa}"]
    report = ragctl("evaluate", *chain, "--set", "evaluation.thresholds={}")
    assert report["questions"] == 1
    (refused,) = report["invalid"]
    assert refused["where"] == f"{qa}:2" and refused["reason"].startswith("the question is too long: about ")


def test_dataset_generate_writes_a_seeded_qa_set_from_the_collection(project: Path, lifecycle: Lifecycle) -> None:
    from ragctl.evaluation import answers, datasets

    out = project / "qa.generated.jsonl"
    # The 270M model turns about one chunk in eight into a pair that passes the checks: 6 chunks per question.
    budget = ["--set", "evaluation.generation.attempts_per_question=6"]
    result = ragctl(
        "dataset", "generate", "--n", "2", "--seed", "3", "-o", str(out), "--mlflow-dataset", "synth", *budget
    )
    assert 1 <= len(result["items"]) <= 2 and result["attempts"] <= 12, result
    generated = datasets.load(str(out))
    assert [i.question for i in generated.items] == [i["question"] for i in result["items"]]
    # MLflow returns a dataset's records by (created_time, record id): one batch comes back in uuid order.
    assert sorted(i.question for i in datasets.load("synth").items) == sorted(i.question for i in generated.items)
    for item in generated.items:  # the gold source is the chunk the answer came from: its words are there
        (source,) = item.sources
        where = [{"file": source["file"]}] + ([{"page": source["page"]}] if "page" in source else [])
        pages = chroma(project).get(where={"$and": where} if len(where) > 1 else where[0])
        words = set(answers.normalize(" ".join(pages["documents"])).split())
        assert set(answers.normalize(item.answers[0]).split()) & words, item
    runs = client(project).search_runs(
        [result["experiment_id"]], "tags.`ragctl.stage` = 'dataset'", order_by=["attributes.start_time DESC"]
    )
    assert runs[0].info.status == "FINISHED" and runs[0].data.metrics["generate.items"] == len(result["items"])
    ragctl("dataset", "generate", "--n", "2", "--seed", "3", "-o", str(project / "again.jsonl"), *budget)
    assert (project / "again.jsonl").read_bytes() == out.read_bytes(), "same seed, same chunks, same questions"
    chain = ["--model-uri", lifecycle.model_uri]
    report = ragctl("evaluate", *chain, "--set", f"evaluation.dataset={out}", "--set", "evaluation.thresholds={}")
    assert report["questions"] == len(generated.items) and "hit_rate" in report["metrics"]


def test_baseline_reuses_its_results_and_does_not_flag_the_same_chain(
    project: Path, lifecycle: Lifecycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ragctl.stages import evaluate

    loaded: list[str] = []
    load = evaluate._load
    monkeypatch.setattr(evaluate, "_load", lambda session, uri: loaded.append(uri) or load(session, uri))
    # CI's quick gate: the first questions only, against the champion evaluated on the whole set
    report = ragctl("evaluate", "--model-uri", lifecycle.model_uri, "--baseline", "champion", "--limit", "6")
    assert loaded == [lifecycle.model_uri], "the baseline's logged rows are reused without loading the baseline"
    assert report["passed"] is True, report
    assert report["baseline"]["reused"] is True, "champion's own evaluation matches model, data and collection"
    whole = client(project).get_run(report["baseline"]["run_id"]).data.metrics["questions"]
    assert whole == lifecycle.evaluate["questions"] == 29, "its rows from a run on the whole set"
    compared = {c["metric"]: c for c in report["comparisons"]}
    assert set(compared) >= {"hit_rate", "mrr", "token_f1"} and not any(c["regression"] for c in compared.values())
    assert compared["hit_rate"]["questions"] == 6 and compared["hit_rate"]["delta"] == 0.0


def test_baseline_catches_a_degraded_chain(project: Path) -> None:
    try:
        _degraded_chain_is_caught_registered_forced_and_rolled_back(project)
    finally:  # champion back on version 1 even if an assertion failed midway: other tests serve it
        client(project).set_registered_model_alias(MODEL, "champion", "1")


def _degraded_chain_is_caught_registered_forced_and_rolled_back(project: Path) -> None:
    degraded = ragctl("assemble", "--set", "retrieval.top_k=1")
    junit = project / "reports" / "degraded.xml"
    result = invoke("evaluate", "--json", "--baseline", "champion", "--junit", str(junit))
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["model_uri"] == degraded["model_uri"] and report["baseline"]["reused"] is True
    compared = {c["metric"]: c for c in report["comparisons"]}
    assert compared["hit_rate"]["delta"] < 0 and compared["hit_rate"]["method"] == "mcnemar"
    flagged = [m for m, c in compared.items() if c["regression"]]
    assert flagged, compared
    assert "regressed" in " ".join(result.output.split())
    assert "hit_rate vs baseline" in junit.read_text() and "significant regression" in junit.read_text()
    refused = invoke("register", "--json")
    said = " ".join(refused.output.split())
    assert refused.exit_code == 1 and "no passing evaluation" in said and "failed" in said
    allowed = ragctl("register", "--allow-unevaluated")
    assert allowed["tags"]["ragctl.allow_unevaluated"] == "true" and allowed["tags"]["ragctl.eval_passed"] == "false"
    assert "did NOT pass" in client(project).get_model_version(MODEL, allowed["version"]).description
    refused = invoke("promote", "--version", allowed["version"], "--json")
    text = " ".join(refused.output.split())
    assert refused.exit_code == 1 and "evaluation failed" in text and "regression: worse than v1" in text, text
    forced = ragctl("promote", "--version", allowed["version"], "--force", "--reason", "e2e override")
    assert forced["previous"] == "1" and {c["gate"] for c in forced["checks"] if c["overridden"]} >= {"evaluation"}
    back = ragctl("promote", "--rollback", "--reason", "e2e rollback")
    assert (back["previous"], back["version"]) == (allowed["version"], "1")
    assert [m["action"] for m in ragctl("history")][:3] == ["rollback", "promote", "promote"]


@pytest.fixture(scope="module")
def llama_server() -> Iterator[tuple[str, str]]:
    """A real OpenAI-compatible endpoint: llama.cpp's HTTP server on loopback, behind an API key."""
    server, api_base, key = servers.llama_server(n_ctx=8192)
    yield api_base, key
    del server


def test_openai_compatible_endpoint_and_the_key_never_reaches_mlflow_traces_or_logs(
    project: Path, llama_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The chain through an endpoint behind a key: the key is nowhere in the store (runs, artifacts, the
    model, traces, every byte of the database), the output or the logs (captured at DEBUG)."""
    caplog.set_level(logging.DEBUG)
    api_base, key = llama_server
    monkeypatch.setenv("RAGCTL_E2E_KEY", key)
    endpoint = [
        "--set",
        "llm.type=openai-compatible",
        "--set",
        f"llm.api_base={api_base}",
        "--set",
        "llm.api_key_env=RAGCTL_E2E_KEY",
        "--set",
        "project.experiment=e2e-endpoint",
    ]
    result = ragctl("assemble", *endpoint)  # logging test-runs the chain through the endpoint
    report = ragctl("evaluate", "--limit", "3", *endpoint)
    assert report["questions"] == 3 and report["metrics"]["hit_rate"] > 0
    run = client(project).get_run(result["run_id"])
    assert run.data.params["llm.api_key_env"] == "RAGCTL_E2E_KEY"
    import mlflow

    logged = Path(mlflow.artifacts.download_artifacts(run_id=result["run_id"], artifact_path=""))
    model = Path(mlflow.artifacts.download_artifacts(result["model_uri"]))
    texts = [json.dumps(run.data.params), json.dumps(run.data.tags)]
    texts += [p.read_text(errors="ignore") for d in (logged, model) for p in d.rglob("*") if p.is_file()]
    mlflow.flush_trace_async_logging()
    traces = mlflow.search_traces(locations=[run.info.experiment_id], return_type="list")
    assert traces, "evaluate traced the chain"
    texts += [trace.to_json() for trace in traces]
    texts += [p.read_bytes().decode("latin-1") for p in (project / "state").rglob("*") if p.is_file()]
    texts += [json.dumps(result), json.dumps(report), caplog.text]
    assert caplog.records and not [i for i, text in enumerate(texts) if key in text]
    monkeypatch.setenv("RAGCTL_E2E_KEY", "wrong")
    refused = invoke("evaluate", "--limit", "1", *endpoint)
    assert refused.exit_code == 4 and "401" in refused.output


def test_judge_through_a_real_endpoint_counts_unmeasured_verdicts(
    project: Path, lifecycle: Lifecycle, llama_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api_base, key = llama_server
    monkeypatch.setenv("RAGCTL_JUDGE_KEY", key)
    judge = (
        f"evaluation.judge={{api_base: '{api_base}', model: gemma, api_key_env: RAGCTL_JUDGE_KEY, "
        "metrics: [groundedness, correctness], max_unmeasured: 1.0}"
    )
    # Only the unmeasured budget gates here: what is under test is the judge's plumbing, not the chain.
    chain = ["--model-uri", lifecycle.model_uri]
    report = ragctl("evaluate", *chain, "--limit", "2", "--set", judge, "--set", "evaluation.thresholds={}")
    gates = {g["metric"]: g for g in report["gates"]}
    assert len(report["worst"]) == 2, "both questions are listed with their verdicts"
    replied = 0
    for metric in ("groundedness", "correctness"):
        for row in report["worst"]:
            # Never a failed call: a verdict, a reply that was not yes/no (the 270M model says "unknown" now
            # and then), or no verdict written; a call that failed would leave its error here instead.
            reason = row["unmeasured"].get(metric, "")
            assert metric in row["values"] or reason.startswith(("unparseable verdict", "no verdict")), (metric, row)
            replied += metric in row["values"] or reason.startswith("unparseable verdict")
        unmeasured = report["unmeasured"][metric]
        assert gates[f"{metric} unmeasured"]["value"] == unmeasured / 2 and gates[f"{metric} unmeasured"]["passed"]
    assert replied, "the judge answered at least one question"


class _GarbageJudge(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "banana"}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _endpoint(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A small HTTP server on loopback playing a misbehaving endpoint; yields its api_base."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


def test_a_garbage_judge_is_unmeasured_and_fails_the_budget(project: Path, lifecycle: Lifecycle) -> None:
    with _endpoint(_GarbageJudge) as api_base:
        judge = f"evaluation.judge={{api_base: '{api_base}', model: x, metrics: [relevance], max_unmeasured: 0.5}}"
        result = invoke("evaluate", "--json", "--model-uri", lifecycle.model_uri, "--limit", "2", "--set", judge)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["unmeasured"] == {"relevance": 2} and "relevance" not in report["metrics"]
    assert {g["metric"]: g["passed"] for g in report["gates"]}["relevance unmeasured"] is False


class _BrokenLLM(BaseHTTPRequestHandler):
    """An endpoint that is there (GET /models answers) but refuses every completion (400: not retried)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"data": []}')

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(400)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_assemble_refuses_a_chain_whose_test_answer_fails(project: Path, lifecycle: Lifecycle) -> None:
    with _endpoint(_BrokenLLM) as api_base:
        result = invoke("assemble", "--set", "llm.type=openai-compatible", "--set", f"llm.api_base={api_base}")
    assert result.exit_code == 4, result.output
    assert "failed its test answer" in " ".join(result.output.split())
    (refused,) = client(project).search_runs(
        [lifecycle.assemble["experiment_id"]],
        "tags.`ragctl.stage` = 'assemble' and attributes.status = 'FAILED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    assert "test answer" in refused.data.tags["ragctl.error"]
    assert "ragctl.model_uri" not in refused.data.tags, "a refused chain never becomes the default one"


def test_kill_9_during_evaluate_leaves_no_run_running(project: Path, lifecycle: Lifecycle) -> None:
    import signal

    ragctl_bin = Path(sys.executable).parent / "ragctl"
    command = [str(ragctl_bin), "evaluate", "--model-uri", lifecycle.model_uri, "--config", "ragctl.yaml", "--json"]
    child = subprocess.Popen(command, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    experiment = [lifecycle.assemble["experiment_id"]]
    running = "tags.`ragctl.stage` = 'evaluate' and attributes.status = 'RUNNING'"
    deadline = time.monotonic() + 180
    while not client(project).search_runs(experiment, running):
        assert child.poll() is None and time.monotonic() < deadline, "the evaluation ended before it was killed"
        time.sleep(0.2)
    time.sleep(3)  # mid-scoring
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    (killed,) = client(project).search_runs(experiment, running)
    ragctl("evaluate", "--model-uri", lifecycle.model_uri, "--limit", "1", "--set", "evaluation.thresholds={}")
    assert not client(project).search_runs(experiment, running), "no run left RUNNING"
    reaped = client(project).get_run(killed.info.run_id)
    assert reaped.info.status == "KILLED" and f"process {child.pid}" in reaped.data.tags["ragctl.error"]


def test_expert_review_queue_answers_and_agreement(
    project: Path, lifecycle: Lifecycle, llama_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version 1 answers 4 sampled questions into a queue named for it; two reviewers answer as MLflow's
    Review page does (HUMAN assessments named for ragctl's label schemas); status counts and agrees."""
    import mlflow
    from mlflow.entities import AssessmentSource
    from mlflow.genai import review_queues as rq

    ann, bob = "ann@example.com", "bob@example.com"
    started = ragctl("review", "start", "--version", "1", "--sample", "4", "--reviewer", ann, "--reviewer", bob)
    assert started["queue"] == f"{MODEL} v1" and len(started["items"]) == 4 and started["reviewers"] == [ann, bob]
    tracking = client(project)
    model_id = tracking.get_model_version(MODEL, "1").source.removeprefix("models:/")
    traces = [tracking.get_trace(item["trace_id"]) for item in started["items"]]
    for trace, item in zip(traces, started["items"]):
        assert trace.info.tags["ragctl.review_version"] == "1" and trace.info.tags["ragctl.review_item"] == item["id"]
        assert trace.info.trace_metadata["mlflow.modelId"] == model_id, "linked to the version's LoggedModel"
    queue = rq.get_review_queue(name=started["queue"], experiment_id=started["experiment_id"])
    assert {i.item_id for i in rq.list_review_queue_items(queue.queue_id)} == {t.info.trace_id for t in traces}
    assert len(queue.schema_ids) == 4

    def review(who: str, trace_id: str, correct: str, **more: str) -> None:
        human = AssessmentSource(source_type="HUMAN", source_id=who)
        mlflow.log_feedback(trace_id=trace_id, name="ragctl_correct", value=correct, source=human, **more)

    ids = [t.info.trace_id for t in traces]
    for trace_id, said in zip(ids, ["yes", "yes", "no", "partly"]):
        review(ann, trace_id, said, **({"rationale": "the year is wrong"} if said == "no" else {}))
    for trace_id, said in zip(ids, ["yes", "no", "no"]):
        review(bob, trace_id, said)
    mlflow.log_expectation(
        trace_id=ids[1], name="ragctl_expected_answer", value="In 911", source=AssessmentSource("HUMAN", bob)
    )
    for who, said in ((ann, ["yes", "yes", "no"]), (bob, ["yes", "no"])):  # majorities: yes, a tie, no
        for trace_id, supported in zip(ids, said):
            mlflow.log_feedback(
                trace_id=trace_id, name="ragctl_sources_support", value=supported, source=AssessmentSource("HUMAN", who)
            )
    status = ragctl("review", "status")
    progress = {p["reviewer"]: (p["done"], p["to_do"], p["approved"]) for p in status["progress"]}
    assert progress == {ann: (4, 0, 2), bob: (3, 1, 1)}
    # Items 1-3 have both: ann yes yes no, bob yes no no. p_o = 2/3, p_e = 2/3*1/3 + 1/3*2/3 = 4/9, kappa 0.4.
    (pair,) = status["reviewers"]
    assert (pair["items"], round(pair["kappa"], 4), pair["method"]) == (3, 0.4, "cohen")
    # Majorities: item 1 correct, item 2 a tie (no verdict), items 3 and 4 not correct.
    assert (status["items"], status["complete"], status["approved"]) == (4, 4, 1)
    answer_scorers = {s["scorer"]: s["items"] for s in status["scorers"] if s["against"] == "correct"}
    assert answer_scorers == {"token_f1": 3, "exact_match": 3, "rouge_l": 3, "semantic_similarity": 3}
    gold = mlflow.artifacts.load_dict(f"runs:/{started['run_id']}/review/items.json")["items"]
    with_sources = sum(bool(i["sources"]) for i in gold[:3:2])
    source_scorers = {s["scorer"]: s["items"] for s in status["scorers"] if s["against"] == "sources support"}
    assert {k: v for k, v in source_scorers.items() if k != "citation_hit"} == dict.fromkeys(
        ["hit_rate", "file_hit_rate", "mrr"], with_sources
    ), "items 1 and 3 have a majority on the sources"
    assert source_scorers["citation_hit"] <= with_sources
    assert next(s for s in status["scorers"] if s["scorer"] == "token_f1")["threshold"] == ">= 0.15"
    logged = tracking.get_run(status["run_id"])
    assert logged.data.tags["ragctl.stage"] == "review-status" and logged.data.metrics["approved"] == 1
    assert status["judge"] == "no judge configured (evaluation.judge)"
    # The judge (llama.cpp's server with the packaged base model) on the 3 items with a verdict and gold:
    # each either agrees or not with the experts, or is counted as not judged; none is lost.
    api_base, key = llama_server
    monkeypatch.setenv("RAGCTL_JUDGE_KEY", key)
    judge = (
        f"evaluation.judge={{api_base: '{api_base}', model: gemma, api_key_env: RAGCTL_JUDGE_KEY, "
        "metrics: [correctness]}"
    )
    judged = ragctl("review", "status", "--set", judge)
    (row,) = [s for s in judged["scorers"] if s["scorer"] == "judge (gemma) correctness"]
    unjudged = int(judged["judge"].split()[0]) if judged["judge"] else 0
    assert row["items"] + unjudged == 3, judged["judge"]
    # The review gate: 4 reviewed, 1 approved (25 %).
    strict = ["--set", "registry.gates.review={min_reviewed: 3, min_approved: 0.5}", "--allow-collection-change"]
    refused = invoke("promote", "--alias", "expert", "--version", "1", *strict, "--json")
    said = " ".join(refused.output.split())
    assert refused.exit_code == 1 and f"queue '{MODEL} v1': 4 of 4 reviewed" in said and "25% approved" in said
    forced = ragctl("promote", "--alias", "expert", "--version", "1", *strict, "--allow-unreviewed", "-r", "e2e")
    assert [c["overridden"] for c in forced["checks"] if c["gate"] == "review"] == [True]
    lenient = ["--set", "registry.gates.review={min_reviewed: 4, min_approved: 0.25}", "--allow-collection-change"]
    passed = ragctl("promote", "--alias", "expert-ok", "--version", "1", *lenient, "-r", "e2e")
    (gate,) = [c for c in passed["checks"] if c["gate"] == "review"]
    assert gate["passed"] and not gate["overridden"] and gate["evidence"] == [started["run_id"]]
    traced = ragctl("lineage", "1")
    for alias in ("expert", "expert-ok"):  # the module's other tests see version 1 as champion alone
        tracking.delete_registered_model_alias(MODEL, alias)
    assert traced["review"]["queue"] == started["queue"] and traced["review"]["approved"] == 1
    assert passed["run_id"] in traced["review"]["behind_promotions"]
    one = project / "round2.jsonl"
    one.write_text(json.dumps({"id": "r2", "question": "Who was Rollo?", "answer": "a Viking leader"}) + "\n")
    again = ragctl("review", "start", "--alias", "champion", "--questions", str(one), "--reviewer", "cy@example.com")
    assert again["queue"] == started["queue"] and again["reviewers"] == [ann, bob, "cy@example.com"]
    assert len(list(rq.list_review_queue_items(queue.queue_id))) == 5, "a second round joins the version's queue"
    # The same round again asks nothing twice: no answer, no run, no duplicate item; a new reviewer joins.
    same = ragctl("review", "start", "--alias", "champion", "--questions", str(one), "-r", "dee@example.com")
    assert (same["run_id"], same["items"], same["already"]) == ("", [], 1)
    assert same["reviewers"] == [ann, bob, "cy@example.com", "dee@example.com"]
    assert len(list(rq.list_review_queue_items(queue.queue_id))) == 5
    long = project / "long.jsonl"
    long.write_text(json.dumps({"question": "Who? " * 5000, "answer": "x"}) + "\n" + one.read_text())
    refused = invoke("review", "start", "--alias", "champion", "--questions", str(long), "-r", "cy@example.com")
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and f"{long}:1: the question is too long" in said, refused.output
    assert len(list(rq.list_review_queue_items(queue.queue_id))) == 5, "nothing is queued when one is refused"
    from ragctl.config.load import load_config
    from ragctl.session import Session
    from ragctl.stages.review.start import questions

    asked, origin = questions(Session(load_config(project / "ragctl.yaml")), None, lifecycle.evaluate["run_id"], None)
    assert len(asked) == lifecycle.evaluate["questions"] and all(i.answers for i in asked if i.answerable)
    assert origin == f"evaluation run {lifecycle.evaluate['run_id']}"
    # The reviews become a QA set: approved answers and expected answers are gold; the two judged wrong
    # without an expected answer are listed; the set evaluates; a second round merges without duplicates.
    out = project / "reviewed.jsonl"
    made = ragctl("dataset", "from-reviews", started["queue"], "-o", str(out), "--mlflow-dataset", "reviewed-e2e")
    assert (made["written"], made["added"], len(made["unresolved"])) == (2, 2, 2)
    items = {i["id"]: i for i in map(json.loads, out.read_text().splitlines())}
    first, second = started["items"][0], started["items"][1]
    assert items[first["id"]]["answers"] == [first["answer"]] and items[second["id"]]["answers"] == ["In 911"]
    assert items[second["id"]]["tags"] == {"reviewed": "true", "reviewer": f"{ann},{bob}", "trace_id": ids[1]}
    elsewhere = ["--set", "project.experiment=e2e-reviewed", "--set", "evaluation.thresholds={}"]
    scored = ragctl("evaluate", "--model-uri", f"models:/{MODEL}/1", "--set", f"evaluation.dataset={out}", *elsewhere)
    assert scored["questions"] == 2
    review("cy@example.com", again["items"][0]["trace_id"], "yes")
    merged = ragctl("dataset", "from-reviews", started["queue"], "-o", str(out), "--mlflow-dataset", "reviewed-e2e")
    assert (merged["written"], merged["added"], merged["replaced"]) == (3, 1, 2)
    assert len(out.read_text().splitlines()) == 3
    from mlflow.genai.datasets import get_dataset

    assert len(get_dataset(name="reviewed-e2e").to_df()) == 3, "MLflow's copy deduplicated too"


def test_serve_then_feedback_then_monitor_queues_the_thumbs_down(
    project: Path, llama_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ragctl serve` of the champion: answers over HTTP carry their trace ids, the traces are tagged with
    the version and linked to its LoggedModel; end users rate two; monitor scores the window and sends the
    thumbs-down answer (and the weakest other) to the production review queue."""
    from mlflow.genai import review_queues as rq

    ragctl_bin = str(Path(sys.executable).parent / "ragctl")
    # Served where its store is not: said before the server starts (it was the server's start-up traceback).
    nowhere = subprocess.run(
        [ragctl_bin, "serve", "--alias", "champion", "-c", "ragctl.yaml"],
        cwd=str(project),
        env={**os.environ, "RAGCTL_CHROMA_PATH": str(project / "nowhere")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert nowhere.returncode == 3 and "there is no Chroma store at" in nowhere.stderr, nowhere.stderr
    assert "Traceback" not in nowhere.stderr and not (project / "nowhere").exists()
    server = servers.Server(
        [ragctl_bin, "serve", "--alias", "champion", "-c", "ragctl.yaml"], "/ping", cwd=str(project)
    )
    server.start()
    try:
        questions = ["When was the Duchy of Normandy founded?", "Who was Rollo?", "What is a complexity class?"]
        body = json.dumps({"dataframe_records": [{"question": q} for q in questions]}).encode()
        request = urllib.request.Request(server.url + "/invocations", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            predictions = json.loads(response.read())["predictions"]
    finally:
        server.stop()
    ids = [p["trace_id"] for p in predictions]
    assert len(set(ids)) == 3 and all(ids)
    tracking = client(project)
    model_id = tracking.get_model_version_by_alias(MODEL, "champion").source.removeprefix("models:/")
    champion = str(tracking.get_model_version_by_alias(MODEL, "champion").version)
    for trace_id in ids:
        trace = tracking.get_trace(trace_id)
        assert trace.info.tags["ragctl.served_version"] == champion and trace.info.tags["ragctl.served_model"] == MODEL
        assert trace.info.trace_metadata.get("mlflow.modelId") == model_id
    ragctl("feedback", ids[0], "--rating", "down", "--comment", "wrong year", "--user", "u-17")
    ragctl("feedback", ids[1], "--rating", "up")
    rated = [a for a in tracking.get_trace(ids[0]).info.assessments if a.name == "ragctl_user_rating"]
    assert [(a.value, a.rationale, a.source.source_type, a.source.source_id) for a in rated] == [
        (False, "wrong year", "HUMAN", "u-17")
    ]
    api_base, key = llama_server
    monkeypatch.setenv("RAGCTL_JUDGE_KEY", key)
    judge = (
        f"evaluation.judge={{api_base: '{api_base}', model: gemma, api_key_env: RAGCTL_JUDGE_KEY, "
        "metrics: [relevance]}"
    )
    watched = ragctl("monitor", "--since", "1h", "--worst", "1", "--reviewer", "ann@example.com", "--set", judge)
    metrics = watched["metrics"]
    assert metrics["judge_relevance_judged"] + metrics["judge_relevance_unjudged"] == watched["traces"]
    assert watched["traces"] >= 3 and watched["by_version"][champion] >= 3
    assert watched["metrics"]["thumbs_down"] >= 1 and watched["metrics"]["latency_p95"] > 0
    assert ids[0] in watched["queued"] and len(watched["queued"]) >= 2
    queue = rq.get_review_queue(name=f"{MODEL} production", experiment_id=watched["experiment_id"])
    assert set(watched["queued"]) <= {i.item_id for i in rq.list_review_queue_items(queue.queue_id)}
    logged = tracking.get_run(watched["run_id"])
    assert logged.data.tags["ragctl.stage"] == "monitor" and logged.data.metrics["traces"] == watched["traces"]
    refused = invoke("feedback", "tr-0000", "--rating", "down")
    assert refused.exit_code == 2 and "no trace 'tr-0000'" in refused.output
