"""The evaluation harness behind `ragctl evaluate`, one module per step:

datasets (read and validate a QA set) -> harness (run the chain through `mlflow.genai.evaluate`, one trace per
question) -> scorers (retrieval, answer, latency and judge metrics as MLflow scorers) -> aggregate (run-level
figures) -> gates (thresholds) -> baseline + statistics (paired comparison with another version) -> reports
(JSON, JUnit, Markdown, HTML). Modules import their heavy dependencies inside functions.
"""
