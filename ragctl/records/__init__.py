"""What the lifecycle leaves behind, in one place. Stages read and write records; they never import each other.

- tags: every `ragctl.*` tag name; filters: MLflow search filters with quoted values;
- runs: stage runs (start, find the latest, reap killed ones, artifacts);
- models: one parser for model references, registry versions and aliases, the LoggedModel behind a URI;
- manifest: the collection's manifest (one record per source file) and its digest;
- evaluations: per-question rows, reuse, a version's logged evaluation, the paired comparison;
- moves: alias moves (each a promote run) and the registry's versions;
- prompts: the chain's prompt as a versioned MLflow prompt.
"""
