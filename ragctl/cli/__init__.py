"""The typer CLI. Importing it must stay cheap: no mlflow, llama-index, chromadb or model runtimes."""
