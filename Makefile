# hellojohn-store — common tasks. `make help` lists them.
CARGO ?= cargo
DATABASE_URL ?=

.PHONY: help build demo bench test services lint fmt migrate migrate-global entities entities-check schemas schemas-check validate ci

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## Build the workspace (library, CLI, entity, migration)
	$(CARGO) build --workspace

demo: ## The main job on the embedded default (SQLite under ./data, no server needed)
	$(CARGO) run -q -- demo

bench: services ## Benchmarks: the full table against baselines measured in the same run (release; see BENCHMARKS.md)
	$(CARGO) run --release -q -- bench

services: ## Check (and start) the servers the tests need: PostgreSQL, MariaDB, Redis, MongoDB (SecantusDB), PgBouncer
	scripts/test-services.sh

# The closing table (tests per backend, scripts/case-counts.sh) is printed whatever nextest's
# outcome; make's exit status is nextest's (or the script's, when nextest passed).
test: services ## Run every test: unit, CLI and the conformance suite on every backend; ends with the tests per backend
	@command -v cargo-nextest >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked
	@scripts/case-counts.sh --clear
	$(CARGO) nextest run --workspace --no-fail-fast; status=$$?; \
	  scripts/case-counts.sh; counts=$$?; \
	  if [ $$status -ne 0 ]; then exit $$status; else exit $$counts; fi

lint: ## clippy with warnings as errors, and the formatting check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) fmt --all -- --check

fmt: ## Format the code
	$(CARGO) fmt --all

migrate: ## Apply pending migrations: make migrate DATABASE_URL=postgres://… [ARGS="-s schema"]
	@test -n "$(DATABASE_URL)" || { echo "usage: make migrate DATABASE_URL=<url> [CMD=up|status|down] [ARGS=…]"; exit 2; }
	$(CARGO) run -q -p migration -- $(or $(CMD),up) -u "$(DATABASE_URL)" $(ARGS)

migrate-global: ## Control-plane tables on the global database: make migrate-global DATABASE_URL=…
	@test -n "$(DATABASE_URL)" || { echo "usage: make migrate-global DATABASE_URL=<url> [CMD=up|status|down]"; exit 2; }
	HJ_MIGRATOR=global $(CARGO) run -q -p migration -- $(or $(CMD),up) -u "$(DATABASE_URL)" $(ARGS)

entities: ## Regenerate entity/ from the migrations (scratch PostgreSQL database, sea-orm-cli)
	scripts/generate-entities.sh

entities-check: ## Fail when entity/ differs from what the migrations generate
	scripts/generate-entities.sh --check

schemas: ## Regenerate schemas/*.schema.json from the Rust types
	$(CARGO) run -q -- schema export schemas

schemas-check: ## Fail when schemas/ drift from the Rust types
	scripts/check-schemas.sh

validate: ## Validate the example control-plane tree (what a deployment's CI runs on its own)
	$(CARGO) run -q -- validate examples/data

ci: ## What .ci/run runs
	.ci/run
