# csxl: two commands do everything on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint types unit bench workbooks schemas picture docs dist clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

DEMO_BOOK := build/csxl-demo.xlsx
# fixed build time for the committed workbooks (reproducible builds: SOURCE_DATE_EPOCH)
WORKBOOKS_EPOCH := 1793491200

demo: $(STAMP)
	mkdir -p build
	$(BIN)/csxl new $(DEMO_BOOK) --demo --force
	$(BIN)/csxl refresh $(DEMO_BOOK)
	@echo "csxl demo workbook: $(abspath $(DEMO_BOOK))"

workbooks: $(STAMP)
	SOURCE_DATE_EPOCH=$(WORKBOOKS_EPOCH) $(BIN)/csxl new workbooks/csxl-template.xlsx --force
	SOURCE_DATE_EPOCH=$(WORKBOOKS_EPOCH) $(BIN)/csxl new workbooks/csxl-demo.xlsx --demo --force --sources build/workbook-sources

# the README's picture: the demo workbook's Dashboard rendered by LibreOffice
picture: $(STAMP)
	$(BIN)/python docs/render_dashboard.py workbooks/csxl-demo.xlsx docs/img/dashboard.png

# generated documentation: the layout tables of docs/workbook.md and the JSON schemas
docs: schemas
	$(BIN)/python -m csxl.book.docs_tables docs/workbook.md

schemas: $(STAMP)
	$(BIN)/csxl schema --write docs/schemas

# release: the sdist and a pure wheel in dist/, their metadata and README checked by twine
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist
	$(BIN)/python -m twine check --strict dist/*

lint: $(STAMP)
	$(BIN)/ruff check csxl tests bench docs
	$(BIN)/ruff format --check csxl tests bench docs
	$(BIN)/lint-imports

types: $(STAMP)
	$(BIN)/mypy csxl

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint types unit

bench: $(STAMP)
	$(BIN)/python bench/run.py --out docs/benchmarks.md

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache .hypothesis *.egg-info
