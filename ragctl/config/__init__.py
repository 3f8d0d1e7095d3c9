"""Configuration: one pydantic model (model/, a module per group of sections) and its YAML loader (load.py)."""
