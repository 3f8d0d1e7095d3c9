"""The lifecycle, one module per stage: ingest -> assemble -> evaluate -> register -> promote, with lineage,
dataset generation and the read-only views beside them, and `pipeline` (ragctl run) sequencing them.

A stage takes a Session (ragctl/session.py) and its options, returns a typed result, and never prints:
progress goes through `session.reporter`, results back to the CLI, which renders them. Stages read and
write records (ragctl/records/) and never import each other; only `pipeline` calls other stages.
"""
