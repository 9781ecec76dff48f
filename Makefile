# slogen: two commands on a fresh Debian machine with Python 3.11+:
#   make generate   compile slo/ into out/ (creates .venv on first use)
#   make test       check slo/ (out/ up to date, promtool and amtool on what it generates),
#                   then slogen's own tests on fixtures under tests/ (tools installed from Debian if root)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: generate check validate test e2e fuzz bench bench-targets lint tools clean golden

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

generate: $(STAMP)
	$(BIN)/slogen generate

check: $(STAMP)
	$(BIN)/slogen generate --check

validate: $(STAMP) tools
	$(BIN)/slogen validate

# promtool and prometheus come from Debian's `prometheus` package (2.42 on bookworm),
# amtool and alertmanager from `prometheus-alertmanager` (0.25), victoria-metrics and vmalert
# from `victoria-metrics` (1.79, for the tests on a second engine). Services are not started.
DEBS := prometheus prometheus-alertmanager victoria-metrics
tools:
	@missing=""; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v amtool >/dev/null || missing="$$missing prometheus-alertmanager"; \
	command -v vmalert >/dev/null || missing="$$missing victoria-metrics"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "missing tools: run 'sudo apt-get install$$missing' (Debian/Ubuntu) or put promtool, amtool and vmalert on PATH" >&2; exit 1; \
	  fi; \
	fi

# The published Kubernetes and prometheus-operator schemas the tests check manifests
# against (tests/k8s, npm packages pinned by package-lock.json); needs node and npm.
K8S := tests/k8s
$(K8S)/node_modules/.package-lock.json: $(K8S)/package-lock.json
	cd $(K8S) && npm ci --no-audit --no-fund --loglevel=error

# The team's specs first (seconds): out/ up to date with slo/, then promtool and amtool
# on what slo/ generates. Then slogen's own tests, which read only fixtures under tests/,
# so they pass whatever slo/ holds.
test: $(STAMP) tools $(K8S)/node_modules/.package-lock.json
	$(BIN)/slogen generate --check
	$(BIN)/slogen validate
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check slogen tests bench
	$(BIN)/mypy slogen

# The end-to-end tests alone: real Prometheus, VictoriaMetrics, vmalert and Alertmanager on 127.0.0.1.
e2e: $(STAMP) tools
	$(BIN)/python -m pytest -q -m e2e

# The spec fuzzer, long: FUZZ_EXAMPLES random mutations of valid specs (fresh ones each
# run; failures are kept in .hypothesis/ and replayed first). The suite runs a fixed short set.
FUZZ_EXAMPLES ?= 3000
fuzz: $(STAMP) tools
	HYPOTHESIS_PROFILE=long FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/test_fuzz.py

# Speed of slogen (generate, validate) and cost of its rules against the peers' shapes.
bench: $(STAMP) tools
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/rules_cost.py
	$(BIN)/python bench/at_scale.py

# Issue 12's speed targets side by side: generate 1,000 and 10,000 SLOs (tmpfs), validate 1,000.
bench-targets: $(STAMP) tools
	$(BIN)/python bench/targets.py

# Regenerate the golden trees under tests/cases/*/out after a deliberate change.
golden: $(STAMP)
	$(BIN)/python -m tests.golden

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
