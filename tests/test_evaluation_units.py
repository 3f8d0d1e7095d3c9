"""The evaluation's pure parts, without a model: metric names, retrieval and answer metrics, thresholds,
datasets, statistics and the report writers (the JUnit file against its schema)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from ragctl.config import metrics as names
from ragctl.config.model import RegressionConfig
from ragctl.errors import DatasetError
from ragctl.evaluation import aggregate, answers, datasets, gates, retrieval, statistics
from ragctl.evaluation.harness import Row

DATA = Path(__file__).parent / "data"


def test_metric_names() -> None:
    assert names.split("hit_rate@5") == ("hit_rate", 5)
    assert names.split("file_ndcg@3") == ("file_ndcg", 3)
    assert names.split("latency_p95") == ("latency_p95", None)
    assert names.mlflow_key("hit_rate@5") == "hit_rate_at_5"
    assert not names.higher_is_better("latency_p95") and names.higher_is_better("mrr")
    for bad in ("hit_rat@5", "token_f1@3", "hit_rate@0"):
        with pytest.raises(ValueError):
            names.split(bad)


def test_retrieval_metrics_at_page_and_file_level() -> None:
    retrieved = [{"file": "a.pdf", "page": 2}, {"file": "docs/b.pdf", "page": 1}, {"file": "a.pdf", "page": 1}]
    gold = [{"file": "a.pdf", "page": 1}, {"file": "b.pdf", "page": 1}]
    page = retrieval.scores(retrieved, gold, k=3, by_page=True)
    assert page["hit_rate"] == 1.0 and page["mrr"] == 0.5
    assert page["recall"] == 1.0 and page["precision"] == pytest.approx(2 / 3)
    ideal = 1 + 1 / 1.5849625
    assert page["ndcg"] == pytest.approx((1 / 1.5849625 + 0.5) / ideal)
    at1 = retrieval.scores(retrieved, gold, k=1, by_page=True)
    assert at1 == {"hit_rate": 0.0, "mrr": 0.0, "recall": 0.0, "precision": 0.0, "ndcg": 0.0}
    assert retrieval.scores(retrieved, gold, k=1, by_page=False)["hit_rate"] == 1.0  # a.pdf, another page
    every = retrieval.all_scores(retrieved, gold, [1, 3])
    assert every["file_hit_rate@1"] == 1.0 and every["hit_rate@1"] == 0.0 and len(every) == 20


def test_answer_metrics() -> None:
    assert answers.exact_match("the Channel islands.", ["Channel Islands"]) == 1.0
    assert answers.token_f1("a deterministic Turing machine", ["A Turing machine"]) == pytest.approx(0.8)
    assert answers.rouge_l("the Turing machine", ["deterministic Turing machine"]) == pytest.approx(2 / 3, abs=0.01)
    assert answers.rouge_l("unrelated", ["France"]) == 0.0
    phrases = ["I don't know", "not in the context"]
    assert answers.declined("I don't know.", phrases) == 1.0 and answers.declined("", phrases) == 1.0
    assert answers.declined("France", phrases) == 0.0
    assert answers.cosine([1, 0], [1, 0]) == pytest.approx(1.0) and answers.cosine([1, 0], [0, 1]) == 0.0


def test_thresholds_with_explicit_comparisons() -> None:
    assert names.parse_threshold("hit_rate@5", ">= 0.8") == (">=", 0.8)
    assert names.parse_threshold("latency_p95", 10) == ("<=", 10.0) and names.parse_threshold("mrr", 0.5) == (">=", 0.5)
    with pytest.raises(ValueError, match="not a comparison"):
        names.parse_threshold("mrr", "at least 0.5")
    checked = {
        g.metric: g.passed
        for g in gates.check(
            {"mrr": 0.6, "latency_p95": 12.0}, {"mrr": "> 0.5", "latency_p95": "<= 10", "hit_rate@5": ">= 0.1"}
        )
    }
    assert checked == {"mrr": True, "latency_p95": False, "hit_rate@5": False}  # not measured -> fails


def test_config_rejects_unknown_threshold_metric() -> None:
    from pydantic import ValidationError

    from ragctl.config.model import EvaluationConfig

    with pytest.raises(ValidationError, match="unknown metric"):
        EvaluationConfig(thresholds={"hit_rat": 0.5})


def test_datasets_jsonl_and_csv(tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        '{"question": "Where?", "answers": ["France"], "sources": [{"file": "n.pdf", "page": 1}], "tags": ["geo"]}\n'
        '{"question": "Price of gold in 2040?", "answerable": false}\n'
    )
    ds = datasets.load(str(qa))
    assert [i.answerable for i in ds.items] == [True, False] and ds.items[0].tags == {"geo": "true"}
    csv_file = tmp_path / "qa.csv"
    csv_file.write_text(
        'question,answer,sources,answerable\nWhere?,France,"[{""file"": ""n.pdf"", ""page"": 1}]",\n'
        "Gold in 2040?,,,false\n"
    )
    from_csv = datasets.load(str(csv_file))
    assert from_csv.items[0].sources == [{"file": "n.pdf", "page": 1}] and not from_csv.items[1].answerable
    assert from_csv.items[0].id == ds.items[0].id, "ids are stable hashes of the question"


def test_dataset_errors_name_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text('question,answer,sources\nok?,yes,\n,no,\nwhy?,because,"[{""page"": 2}]"\n')
    with pytest.raises(DatasetError) as err:
        datasets.load(str(bad))
    assert f"{bad}:3: 'question' must be" in err.value.message and f"{bad}:4: 'sources'" in err.value.message
    with pytest.raises(DatasetError, match="file not found"):
        datasets.load(str(tmp_path / "missing.jsonl"))
    with pytest.raises(DatasetError, match=r"^evaluation\.dataset: .* is a folder, not a QA set"):
        datasets.load(str(tmp_path))
    # a set given by a flag (review start --questions) is named by the flag, not the setting it bypasses
    with pytest.raises(DatasetError, match=r"^--questions: file not found"):
        datasets.load(str(tmp_path / "missing.jsonl"), field="--questions")


def test_the_init_template_is_refused_until_its_placeholders_are_replaced() -> None:
    """Evaluated as written, the template failed the gate on an invented file's hit rate."""
    from importlib.resources import files

    with pytest.raises(DatasetError) as err:
        datasets.load(str(files("ragctl") / "templates" / "qa.jsonl"))
    assert err.value.message.count("still the placeholder `ragctl init` wrote") == 2


def test_a_qa_set_saved_by_a_spreadsheet_reads(tmp_path: Path) -> None:
    """Excel's "CSV UTF-8" begins with a byte-order mark (which renamed the first column, so every row
    lacked its question), writes semicolons where the comma is the decimal mark, and keeps the header's
    capitals; all three read. A file in another encoding is named with its line, not a traceback."""
    excel = tmp_path / "excel.csv"
    excel.write_bytes("\ufeffQuestion;Answer\r\nWhat grew, and by how much?;sales, 12%\r\n".encode())
    (item,) = datasets.load(str(excel)).items
    assert (item.question, item.answers) == ("What grew, and by how much?", ["sales, 12%"])
    marked = tmp_path / "marked.jsonl"
    marked.write_bytes(b'\xef\xbb\xbf{"question": "What?", "answer": "this"}\n')
    assert [i.question for i in datasets.load(str(marked)).items] == ["What?"]
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes(b"question,answer\nWhat?,yes\nO\xf9?,ici\n")
    with pytest.raises(DatasetError, match=r"legacy\.csv:3: not UTF-8 text") as err:
        datasets.load(str(legacy))
    assert "CSV UTF-8" in (err.value.hint or "")
    headless = tmp_path / "headless.csv"
    headless.write_text("What?,yes\n")
    with pytest.raises(DatasetError, match=r"headless\.csv:1: no 'question' column \(the header is 'What\?,yes'\)"):
        datasets.load(str(headless))


def test_items_whose_files_left_the_collection_are_invalid(tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        '{"question": "a?", "answer": "x", "sources": [{"file": "kept.pdf"}]}\n'
        '{"question": "b?", "answer": "y", "sources": [{"file": "gone.pdf", "page": 3}]}\n'
    )
    ds = datasets.load(str(qa))
    datasets.mark_missing_sources(ds, {"docs/kept.pdf"})
    assert [i.invalid for i in ds.items] == ["", "not in the collection: gone.pdf"] and len(ds.valid) == 1


def _rows(values: list[dict[str, float]]) -> list[Row]:
    return [Row(str(i), "q", "a", ["a"], True, [], [], {}, values=v) for i, v in enumerate(values)]


def test_aggregate_names_top_k_and_percentiles() -> None:
    rows = _rows([{"hit_rate@3": 1.0, "latency": 1.0}, {"hit_rate@3": 0.0, "latency": 3.0}])
    summary = aggregate.summarize(rows, top_k=3)
    assert summary["hit_rate@3"] == summary["hit_rate"] == 0.5 and summary["latency_p50"] == 2.0
    assert aggregate.per_question(rows, "hit_rate", 3) == {"0": 1.0, "1": 0.0}
    assert aggregate.per_question(rows, "latency_p95", 3) == {"0": 1.0, "1": 3.0}


def test_statistics_flag_a_real_drop_and_not_noise() -> None:
    settings = RegressionConfig(resamples=1000)
    same = {str(i): float(i % 2) for i in range(30)}
    assert not statistics.compare("hit_rate", same, dict(same), True, True, settings).regression
    dropped = {k: 0.0 for k in same}  # every hit lost: McNemar p ~ 6e-5
    result = statistics.compare("hit_rate", same, dropped, True, True, settings)
    assert result.regression and result.p_value < 0.001 and result.delta == -0.5
    one_lost = dict(same, **{"1": 0.0})  # one question flipped: not significant
    assert not statistics.compare("hit_rate", same, one_lost, True, True, settings).regression
    f1 = {str(i): 0.5 + 0.01 * (i % 5) for i in range(40)}
    worse = {k: v - 0.2 for k, v in f1.items()}
    result = statistics.compare("token_f1", f1, worse, False, True, settings)
    assert result.regression and result.high < 0 and result.method == "bootstrap"
    tolerant = RegressionConfig(resamples=1000, tolerance=0.3)
    assert not statistics.compare("token_f1", f1, worse, False, True, tolerant).regression
    slower = {k: v + 1 for k, v in f1.items()}
    assert statistics.compare("latency_p95", f1, slower, False, False, settings).regression


def _result():  # type: ignore[no-untyped-def]
    from ragctl.evaluation.result import EvalResult, Scored

    rows = _rows([{"token_f1": 1.0, "hit_rate@3": 1.0}, {"token_f1": 0.0, "hit_rate@3": 0.0}])
    rows[1].question, rows[1].answer = "Who <b>won</b>?", "nobody & no one"
    rows[1].sources = [{"file": "a.pdf", "page": 2, "score": 0.5}]
    comparison = statistics.Comparison("hit_rate", 2, 1.0, 0.5, -1.0, 0.0, "mcnemar", 0.5, False)
    base = Scored("base-run", "models:/chain@champion", None, 3, rows, {}, [])
    return EvalResult(
        "run1",
        "0",
        "models:/m-1",
        "qa.jsonl",
        2,
        {"token_f1": 0.5},
        gates.check({"token_f1": 0.5, "hit_rate": 0.5}, {"token_f1": ">= 0.4", "hit_rate": ">= 0.9"}),
        [comparison],
        base,
        rows,
        [{"id": "x", "where": "qa.jsonl:3", "question": "q", "reason": "gone"}],
    )


def test_junit_report_validates_against_the_schema(tmp_path: Path) -> None:
    from lxml import etree

    from ragctl.evaluation.reports import junit

    path = tmp_path / "eval.xml"
    junit.write(_result(), path)
    schema = etree.XMLSchema(etree.parse(str(DATA / "junit" / "junit-10.xsd")))
    document = etree.parse(str(path))
    assert schema.validate(document), schema.error_log
    cases = document.findall(".//testcase")
    assert len(cases) == 3 and len(document.findall(".//failure")) == 1
    assert "hit_rate" in document.find(".//failure").get("message")


def test_markdown_and_html_reports(tmp_path: Path) -> None:
    from ragctl.evaluation.reports import as_dict, html, markdown

    text = markdown.render(_result())
    assert "failed" in text and "| hit_rate | 0.5 | >= 0.9 | **FAIL** |" in text and "McNemar" in text
    page = html.render(_result())
    assert "Who &lt;b&gt;won&lt;/b&gt;?" in page and "nobody &amp; no one" in page, "answers are escaped"
    assert "plotly" in page and "cdn" not in page.lower().split("<body>")[0], "self-contained"
    assert json.loads(json.dumps(as_dict(_result())))["passed"] is False


def test_ndcg_counts_each_gold_source_once() -> None:
    retrieved = [{"file": "a.pdf", "page": 1}, {"file": "a.pdf", "page": 2}, {"file": "a.pdf", "page": 3}]
    assert retrieval.scores(retrieved, [{"file": "a.pdf"}], k=3, by_page=False)["ndcg"] == 1.0
    assert retrieval.scores(retrieved, [{"file": "a.pdf"}], k=3, by_page=False)["precision"] == 1.0


def test_an_mlflow_genai_dataset_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    from mlflow.genai.datasets import create_dataset

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    create_dataset(name="gold_qa").merge_records(
        [
            {
                "inputs": {"question": "Where is Normandy?"},
                "expectations": {"expected_response": "France", "sources": [{"file": "normans.pdf", "page": 1}]},
            }
        ]
    )
    (item,) = datasets.load("gold_qa").items
    assert (item.question, item.answers, item.sources) == (
        "Where is Normandy?",
        ["France"],
        [{"file": "normans.pdf", "page": 1}],
    )
    with pytest.raises(DatasetError, match="no file and no MLflow evaluation dataset named 'nope'"):
        datasets.load("nope")


@pytest.mark.e2e
def test_a_script_in_a_question_or_answer_does_not_run_in_the_report(tmp_path: Path) -> None:
    """In the real browser: strings from documents, questions and answers are text in the page, never code."""
    import shutil
    import subprocess

    from ragctl.evaluation.reports import html
    from tests.conftest import require

    result = _result()
    result.rows[1].question = "<script>document.title='pwned-q'</script>"
    result.rows[1].answer = "<img src=x onerror=\"document.title='pwned-a'\">"
    result.rows[1].sources = [{"file": "<svg onload=\"document.title='pwned-f'\">.pdf", "page": 1, "score": 0.1}]
    page = tmp_path / "eval.html"
    html.write(result, page)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(chromium, "chromium (renders the HTML report)")
    command = [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    dom = subprocess.run([*command, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "Worst questions" in dom, "the page rendered"
    assert "pwned" not in dom.split("<title>", 1)[1].split("</title>", 1)[0], "no injected script ran"
    assert "&lt;script&gt;document.title='pwned-q'&lt;/script&gt;" in dom


def test_kappa_against_a_hand_computed_case() -> None:
    from ragctl.evaluation.agreement import cohen, fleiss

    # Two raters, 5 items: they agree on 4 (p_o = 0.8); rater a says yes 3/5, b 2/5, so chance agreement
    # p_e = 0.6 * 0.4 + 0.4 * 0.6 = 0.48 and kappa = (0.8 - 0.48) / (1 - 0.48) = 0.6154.
    two = cohen(list("yynny"), list("ynnny"), ("a", "b"))
    assert (two.items, two.observed, round(two.kappa or 0, 4)) == (5, 0.8, 0.6154)
    # Fleiss pools the raters' labels: p_yes = 5/10, p_e = 0.5, so kappa = (0.8 - 0.5) / 0.5 = 0.6.
    pooled = fleiss([list(pair) for pair in zip("yynny", "ynnny")], ["a", "b"])
    assert round(pooled.kappa or 0, 4) == 0.6
    # Three raters on 3 items: P_i = 1, 1/3, 1, so P-bar = 7/9; p_yes = 5/9, p_no = 4/9, p_e = 41/81;
    # kappa = (63/81 - 41/81) / (40/81) = 0.55.
    three = fleiss([["y", "y", "y"], ["y", "y", "n"], ["n", "n", "n"]], ["a", "b", "c"])
    assert round(three.kappa or 0, 4) == 0.55
    assert cohen(["y", "y"], ["y", "y"], ("a", "b")).kappa is None, "one label only: undefined, not 1.0 or 0.0"


def test_monitor_figures_need_no_gold() -> None:
    from ragctl.stages.monitor import Served, figures, seconds

    assert (seconds("30m"), seconds("24h"), seconds("1.5d")) == (1800, 86400, 129600)
    served = [
        Served("a", "1", "q", "x", 1.0, 0.9, False, True, True),
        Served("b", "1", "q", "x", 3.0, 0.2, False, False, False),
        Served("c", "2", "q", "", 2.0, None, True, False, None),
    ]
    found = figures(served)
    assert (found["traces"], found["latency_p50"], found["abstain_rate"], found["citation_rate"]) == (
        3,
        2.0,
        1 / 3,
        1 / 3,
    )
    assert (found["thumbs_up"], found["thumbs_down"], found["thumbs_down_rate"]) == (1, 1, 0.5)
    assert (round(found["similarity_mean"], 2), found["similarity_min"]) == (0.55, 0.2)
    assert figures([]) == {"traces": 0}


def test_each_automatic_verdict_is_held_against_the_experts_question_it_answers() -> None:
    from ragctl.records.reviews import Answer, Reviewed
    from ragctl.stages.review.status import _scorers

    def item(answer: str, cited: str | None, correct: str, supported: str) -> Reviewed:
        gold = {"answers": ["Rollo was a Viking leader"], "sources": [{"file": "normans.pdf", "page": 2}]}
        shown = [{"file": "other.pdf", "page": 1}, {"file": "normans.pdf", "page": 2}]
        citation = {"file": cited, "page": 2} if cited else None
        said = {"ann": Answer("ann", correct=correct, supported=supported)}
        return Reviewed("t-" + answer[:3], "pending", "Who was Rollo?", answer, shown, citation, gold, said)

    found = [
        item("Rollo was a Viking leader", "normans.pdf", "yes", "yes"),
        item("a Viking leader", "other.pdf", "partly", "yes"),
        item("a Frankish king", None, "no", "no"),
    ]
    got = {s.scorer: s for s in _scorers(found, {"token_f1": ">= 0.5"}, None)}
    # token_f1 per item: 1.0, 0.67, 0.0 -> pass, pass, fail against correct yes, partly (not correct), no.
    f1 = got["token_f1"]
    assert (f1.against, f1.threshold, f1.items, round(f1.agreement.observed, 4)) == ("correct", ">= 0.5", 3, 0.6667)
    assert got["rouge_l"].threshold == ">= 0.5 (default)" and got["exact_match"].threshold == "= 1"
    assert "semantic_similarity" not in got, "only with an embedding model"
    # Every item retrieved the gold page at rank 2: hit passes all three, the experts say supported twice.
    hit = got["hit_rate"]
    assert (hit.against, hit.items, round(hit.agreement.observed, 4)) == ("sources support", 3, 0.6667)
    assert hit.agreement.kappa == 0.0, "a scorer that passes everything agrees no better than chance"
    # mrr 0.5 passes its default >= 0.5; the answer that cites no source is not counted for citation_hit.
    assert got["mrr"].items == 3
    cited = got["citation_hit"]
    assert (cited.items, cited.agreement.observed, cited.agreement.kappa) == (2, 0.5, 0.0)


def test_a_limited_run_reuses_the_baselines_rows_from_its_whole_qa_set(project: Path, empty_mlflow_db: Path) -> None:
    """CI's `evaluate --limit N --baseline champion`: the champion was evaluated on the whole QA set, so its
    rows for the first N questions are reused (a real MLflow store); a changed QA set, another model or a
    whole-set run missing one of the questions reuses nothing."""
    import shutil

    from ragctl.config.load import load_config
    from ragctl.records import evaluations
    from ragctl.records import tags as t
    from ragctl.session import Session

    shutil.copy(empty_mlflow_db, project / "mlflow.db")
    session = Session(load_config(None, [f"tracking.uri=sqlite:///{project}/mlflow.db"]))
    qa = project / "qa.jsonl"
    qa.write_text("".join(json.dumps({"question": f"Question {n}?", "answer": str(n)}) + "\n" for n in range(5)))
    whole, first = datasets.load(str(qa)), datasets.load(str(qa), 3)
    assert whole.whole_digest is None and first.whole_digest == whole.digest != first.digest
    assert datasets.load(str(qa), 5).whole_digest is None, "a limit that takes every question cuts nothing"

    identity = {t.MODEL_ID: "m-1", t.COLLECTION_DIGEST: "c-1", t.SETTINGS_DIGEST: "s-1"}

    def evaluated(items: list[datasets.Item], dataset_digest: str) -> str:
        tags = {t.STAGE: "evaluate", **identity, t.DATASET_DIGEST: dataset_digest}
        run = session.mlflow.create_run(session.experiment_id, tags=tags).info.run_id
        rows = [{**asdict(_rows([{"token_f1": 1.0}])[0]), "id": i.id, "question": i.question} for i in items]
        session.mlflow.log_dict(run, {"rows": rows}, evaluations.ROWS_ARTIFACT)
        session.mlflow.set_terminated(run)
        return run

    ids = [i.id for i in first.items]
    asked = {**identity, t.DATASET_DIGEST: first.digest}
    assert evaluations.reusable(session, asked, ids, first.whole_digest) is None, "nothing evaluated yet"
    partial = evaluated(whole.items[1:], whole.digest)  # a whole-set run without the first question's row
    assert evaluations.reusable(session, asked, ids, first.whole_digest) is None
    full = evaluated(whole.items, whole.digest)
    found = evaluations.reusable(session, asked, ids, first.whole_digest)
    assert found is not None and found[0] == full != partial
    assert [r.id for r in found[1]] == ids, "the limited set's rows, in its order"
    assert evaluations.reusable(session, asked, ids, None) is None, "without the whole set's digest: a new QA set"
    other = {**asked, t.MODEL_ID: "m-2"}
    assert evaluations.reusable(session, other, ids, first.whole_digest) is None
    exact = evaluated(first.items, first.digest)
    assert evaluations.reusable(session, asked, ids, first.whole_digest)[0] == exact  # type: ignore[index]


def test_a_review_sample_larger_than_the_qa_set_says_it_took_them_all(project: Path) -> None:
    """The summary used to say "1000 sampled" for a queue of 29."""
    from ragctl.config.load import load_config
    from ragctl.session import Session
    from ragctl.stages.review.start import questions

    session = Session(load_config([], ["evaluation.dataset=sample_docs/qa.jsonl"]))
    whole = len(datasets.load("sample_docs/qa.jsonl").items)
    picked, origin = questions(session, None, None, 1000)
    assert len(picked) == whole and origin == f"all {whole} of sample_docs/qa.jsonl (--sample 1000 asked for more)"
    picked, origin = questions(session, None, None, 3)
    assert len(picked) == 3 and origin == "3 sampled from sample_docs/qa.jsonl"
    assert questions(session, None, None, 3)[0] == picked, "seeded: the same N, the same questions"
