"""Every `ragctl.*` tag the lifecycle writes on MLflow runs and registry versions, in one place.

A tag is the record's name; the value's meaning is said beside it. Stages read and write tags through these
names only, so a search written by one stage finds what another wrote.
"""

from __future__ import annotations

# On every stage run (records/runs.py).
STAGE = "ragctl.stage"  # ingest | assemble | evaluate | register | promote | dataset | review
VERSION = "ragctl.version"  # the ragctl version that wrote the run
PROJECT = "ragctl.project"
HOST = "ragctl.host"  # with PID: which process a RUNNING run belongs to, so a dead one can be reaped
PID = "ragctl.pid"
ERROR = "ragctl.error"  # why a run failed or was killed
GIT_COMMIT = "mlflow.source.git.commit"  # MLflow's own tag, set from the working directory's repository

# The collection a run read or wrote, and its content (records/manifest.py).
COLLECTION = "ragctl.collection"
STORE = "ragctl.store"  # where the collection lives: "chroma persistent PATH / NAME"
MANIFEST_DIGEST = "ragctl.manifest_digest"  # on ingest runs: the manifest after the run
COLLECTION_DIGEST = "ragctl.collection_digest"  # on assemble/evaluate runs and versions: the manifest read

# assemble: the logged chain and what it was built from.
MODEL_URI = "ragctl.model_uri"  # also on evaluate runs (the model scored) and versions
INGEST_RUN_ID = "ragctl.ingest_run_id"
PROMPT_URI = "ragctl.prompt_uri"  # prompts:/NAME/VERSION the chain carries
INPUTS_DIGEST = "ragctl.inputs_digest"  # `ragctl run`: what decided the stage's output

# evaluate: one scored model on one QA set (records/evaluations.py).
MODEL_ID = "ragctl.model_id"  # the LoggedModel behind MODEL_URI, or "none"
ROLE = "ragctl.role"  # candidate | baseline
TOP_K = "ragctl.top_k"
DATASET = "ragctl.dataset"  # the QA set's path or MLflow dataset name
DATASET_DIGEST = "ragctl.dataset_digest"
SETTINGS_DIGEST = "ragctl.settings_digest"  # evaluation settings that decide per-question values
EVAL_PASSED = "ragctl.eval_passed"  # true | false (on versions also: unevaluated)
BASELINE_RUN_ID = "ragctl.baseline_run_id"
BASELINE_MODEL_URI = "ragctl.baseline_model_uri"

# register: a version's lineage (also on the register run).
ASSEMBLE_RUN_ID = "ragctl.assemble_run_id"
EMBEDDING = "ragctl.embedding"  # "TYPE MODEL"
LLM = "ragctl.llm"  # "TYPE MODEL"
SOURCE_COMMIT = "ragctl.git_commit"  # the assemble run's git commit
EVAL_RUN_ID = "ragctl.eval_run_id"
EVAL_DATASET = "ragctl.eval_dataset"
EVAL_DATASET_DIGEST = "ragctl.eval_dataset_digest"
ALLOW_UNEVALUATED = "ragctl.allow_unevaluated"
EVAL_METRIC_PREFIX = "eval."  # eval.<metric> = the evaluation's headline figures

# promote: one alias move (records/moves.py).
MODEL_NAME = "ragctl.model_name"
ALIAS = "ragctl.alias"
ACTION = "ragctl.action"  # promote | rollback
FROM_VERSION = "ragctl.from_version"  # or "none"
TO_VERSION = "ragctl.to_version"
WHO = "ragctl.who"
REASON = "ragctl.reason"
OVERRIDES = "ragctl.overrides"  # comma-separated --allow-* flags
EVIDENCE = "ragctl.evidence"  # comma-separated run ids the gates read
PROMOTED_TO_PREFIX = "ragctl.promoted_to."  # on the version: ragctl.promoted_to.<alias> = who, when, run

# review: a registered version's answers in a review queue (records/reviews/); on the review run and on
# each trace it made.
REVIEW_QUEUE = "ragctl.review_queue"  # the queue's name
REVIEW_VERSION = "ragctl.review_version"  # the registered version that answered
REVIEW_ITEM = "ragctl.review_item"  # on a trace: the QA item's id

NONE = "none"  # the value of a run id or version tag that has nothing to point at
