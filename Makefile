# planqa — two commands do everything on a fresh machine:
#   make run    install, provision the embedding model, ingest the plans, serve the UI
#   make test   the same set-up, then the whole test suite (CI runs this)
VENV   ?= .venv
PYTHON ?= python3.11
PY      = $(VENV)/bin/python
PLANQA  = $(VENV)/bin/planqa

.PHONY: run install model ingest serve test test-fast browser bench lint clean

run: ingest serve

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 が必要です（$(PYTHON) が見つかりません）"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0   # CPU build; plain "torch" would pull a multi-GB CUDA build
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The embedding model (fetched once into the user cache, verified by SHA-256) and
# its ONNX export for fast queries (written once, then verified by hash).
model: install
	$(PLANQA) models install

ingest: model
	$(PLANQA) ingest

serve: install
	$(PLANQA) serve

# Chromium for the end-to-end browser test (Debian package; skipped where apt is unavailable).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null) || \
	  echo "chromium を入れられませんでした: ブラウザ E2E テストはスキップされます"; }

test: ingest browser
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not model and not e2e"

bench: ingest
	$(PY) scripts/bench_ingest.py
	$(PY) scripts/bench_answer.py
	$(PY) scripts/bench_cold_start.py

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf var .pytest_cache test-artifacts
