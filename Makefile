# Skybridge: the way in. `make help` lists every target.
SHELL := /bin/bash
CARGO ?= cargo
# nginx, HAProxy and redis-server live in /usr/sbin on Debian, which a non-root PATH may lack.
export PATH := $(PATH):/usr/sbin:/sbin
DEV_DIR := .dev

.DEFAULT_GOAL := help

##@ Getting started

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
	  /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: run
run: deps build ## Start the demo: mTLS upstream + Skybridge on 127.0.0.1:8080, with curl commands.
	@scripts/demo.sh

.PHONY: cluster
cluster: deps build ## Start Redis, the collector, the demo upstream, three instances and nginx (loopback).
	@scripts/cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop everything `make cluster` started.
	@scripts/cluster.sh down

##@ Development

.PHONY: build
build: ## Build every binary (debug).
	$(CARGO) build --workspace --bins

.PHONY: deps
deps: ## Install what tests and the demo need (apt, .venv, .tools/node), only if missing.
	@scripts/install-deps.sh

.PHONY: fmt
fmt: ## Format the code.
	$(CARGO) fmt --all

.PHONY: lint
lint: ## rustfmt check and clippy with warnings denied.
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

.PHONY: test
test: deps ## Install missing test dependencies, then run every test.
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace --no-fail-fast

.PHONY: loadtest
loadtest: ## Run a load-test suite: make loadtest SUITE=steady TARGET=http://127.0.0.1:8080 [ARGS=--short].
	$(CARGO) run --release -p skybridge-loadtest -- --suite $(SUITE) --target $(TARGET) $(ARGS)

.PHONY: bench
bench: deps ## Side-by-side benchmark vs nginx and HAProxy (release build, ~10 min; first run +10 min signing tokens): results/bench-<time>/summary.md.
	@scripts/bench.sh

.PHONY: ci
ci: lint test ## What CI runs: lint, then every test.

.PHONY: clean-dev
clean-dev: ## Remove generated demo certificates and state (.dev/).
	rm -rf $(DEV_DIR)
