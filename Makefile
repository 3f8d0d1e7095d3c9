# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RAGCTL := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ragctl
QUESTION ?= Who was Guy's rival?

.PHONY: install demo test test-fast lint format bench bench-ingest screenshots clean help

help:
	@echo "make demo   - install into $(VENV) and run the whole lifecycle on sample_docs/"
	@echo "make test   - install into $(VENV) and run the test suite (unit + end-to-end)"
	@echo "make lint   - ruff (check + format --check) and mypy on ragctl/"
	@echo "make bench  - time each stage and 'ragctl --help' (bench/README.md)"
	@echo "make bench-ingest - ingest side by side on a real corpus: raw embedding, plain LlamaIndex, ragctl"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	$(RAGCTL) ingest
	$(RAGCTL) assemble
	$(RAGCTL) evaluate
	$(RAGCTL) register
	$(RAGCTL) promote --alias champion --version latest --reason "make demo"
	$(RAGCTL) query "$(QUESTION)"

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not e2e and not slow"

lint: install
	$(BIN)/ruff check ragctl tests bench scripts
	$(BIN)/ruff format --check ragctl tests bench scripts
	$(BIN)/mypy ragctl

format: install
	$(BIN)/ruff check --fix ragctl tests bench scripts
	$(BIN)/ruff format ragctl tests bench scripts

screenshots: install   # README images, taken by the tests that drive a real browser
	RAGCTL_SCREENSHOTS=docs/images $(BIN)/python -m pytest tests/test_scale_out.py -k team_lifecycle

bench: install
	$(BIN)/python bench/run.py --llm

bench-ingest: install   # needs a real corpus: CORPUS=path/to/pdfs (default ../shared/corpora/sec10q/docs)
	$(BIN)/python bench/ingest.py $(if $(CORPUS),--corpus "$(CORPUS)") --scale 250,1000 --pdfium --small 5
	$(BIN)/python bench/pdf_engines.py $(if $(CORPUS),"$(CORPUS)",../shared/corpora/sec10q/docs)
	$(BIN)/python bench/ingest_many_files.py $(if $(CORPUS),--corpus "$(CORPUS)") --files 1000

clean:
	rm -rf .ragctl .pytest_cache .mypy_cache .ruff_cache
