"""Configuration: one pydantic model (model.py) and its YAML loader (load.py)."""
