"""The one configuration model. Every default of ragctl lives here and nowhere else: one module per
group of sections, assembled into RagctlConfig below."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from ragctl.config.model.base import Section
from ragctl.config.model.chain import (
    DEFAULT_PROMPT,
    EmbeddingConfig,
    LLMConfig,
    PromptConfig,
    RerankConfig,
    RetrievalConfig,
    VectorStoreConfig,
)
from ragctl.config.model.evaluation import (
    DEFAULT_THRESHOLDS,
    JUDGE_METRICS,
    EvaluationConfig,
    GenerationConfig,
    JudgeConfig,
    JudgeMetric,
    RegressionConfig,
)
from ragctl.config.model.ingestion import (
    ChunkingConfig,
    Format,
    IngestionConfig,
    PdfConfig,
    PdfLimitsConfig,
    RayConfig,
)
from ragctl.secrets import redact

__all__ = [
    "DEFAULT_PROMPT",
    "DEFAULT_THRESHOLDS",
    "JUDGE_METRICS",
    "ChunkingConfig",
    "EmbeddingConfig",
    "EvaluationConfig",
    "Format",
    "GenerationConfig",
    "IngestionConfig",
    "JudgeConfig",
    "JudgeMetric",
    "LLMConfig",
    "PdfConfig",
    "PdfLimitsConfig",
    "ProjectConfig",
    "PromptConfig",
    "RagctlConfig",
    "RayConfig",
    "RegistryConfig",
    "RegressionConfig",
    "RerankConfig",
    "RetrievalConfig",
    "Section",
    "TrackingConfig",
    "VectorStoreConfig",
]


class ProjectConfig(Section):
    name: str = "ragctl-demo"
    experiment: str = "ragctl"


_STORES = ("sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks")
_REGISTRIES = (*_STORES, "databricks-uc", "uc")  # Unity Catalog, on Databricks or open source


def _store(kinds: tuple[str, ...]) -> AfterValidator:
    """A database or a tracking server: MLflow reads a bare path (or file:) as its folder store, which it
    refuses since 3.x (maintenance mode) with a traceback's worth of text, and which holds no traces."""

    def check(uri: str) -> str:
        scheme = uri.partition(":")[0].split("+")[0].lower()  # "postgresql+psycopg://…", "databricks"
        if scheme not in kinds:
            raise ValueError(
                f"{redact(uri)!r} is not a database or a tracking server: give sqlite:///path/to/mlflow.db, a "
                "database URI (postgresql://, mysql://) or a server's http(s)://host:port"
            )
        return uri

    return AfterValidator(check)


class TrackingConfig(Section):
    uri: Annotated[str, _store(_STORES)] = "sqlite:///.ragctl/mlflow.db"
    # Where runs store artifacts when the experiment is created; ignored for a remote tracking server.
    artifact_location: str = ".ragctl/artifacts"
    # The model registry, when it is not the tracking store (e.g. "databricks-uc" for Unity Catalog).
    registry_uri: Annotated[str, _store(_REGISTRIES)] | None = None


class ReviewGate(Section):
    """promote refuses a version its experts have not vouched for (`ragctl review`), unless
    --allow-unreviewed: at least `min_reviewed` items with a verdict in the version's queue, and at least
    `min_approved` of them judged correct by the reviewers' majority."""

    min_reviewed: int = Field(10, ge=1)
    min_approved: float = Field(0.8, ge=0.0, le=1.0)


class GatesConfig(Section):
    review: ReviewGate | None = None  # off unless set, e.g. {min_reviewed: 20, min_approved: 0.9}


class RegistryConfig(Section):
    model_name: str = "ragctl-demo-chain"
    # promote refuses a version whose evaluation did not pass, unless --force.
    require_passing_eval: bool = True
    gates: GatesConfig = Field(default_factory=GatesConfig)


class ServingConfig(Section):
    """`ragctl serve`: where the champion answers, and how many of its answers are traced to the tracking
    store (what `ragctl feedback` rates and `ragctl monitor` scores)."""

    host: str = "127.0.0.1"
    port: int = Field(5001, ge=1, le=65535)
    trace_sampling: float = Field(1.0, ge=0.0, le=1.0)


class RagctlConfig(Section):
    project: ProjectConfig = Field(default_factory=ProjectConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    ingestion: IngestionConfig = Field(default_factory=IngestionConfig)
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    vector_store: VectorStoreConfig = Field(default_factory=VectorStoreConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)

    def recorded(self) -> dict:
        """The config as runs record it and `ragctl config` prints it: PDF passwords masked (SecretStr) and
        the password of every URI in it (a PostgreSQL tracking.uri's) masked."""
        import json

        return json.loads(redact(json.dumps(self.model_dump(mode="json"))))

    def chain_config(self) -> dict:
        """The part of the config the logged chain needs at load time (no secrets: only env var names)."""
        return self.model_dump(include={"embedding", "vector_store", "llm", "retrieval", "prompt"})
