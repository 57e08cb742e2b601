# The two commands: `make run` and `make test`. Both set up PostgreSQL when DATABASE_URL is
# not given (scripts/dev-db.sh) and are safe to run again.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
DB := scripts/dev-db.sh

.PHONY: run test test-only lint fmt build migrate db openapi bench clean-db

## Serve the API on UCP_LISTEN (default 127.0.0.1:8080), setting up everything first.
run:
	@url=$$($(DB)); export DATABASE_URL="$$url"; \
	$(CARGO) build --bin ucp; \
	./target/debug/ucp migrate; \
	echo "DATABASE_URL=$$url"; \
	exec ./target/debug/ucp serve

## Lint, then every test against real PostgreSQL and real HTTP.
test: lint test-only

test-only:
	@url=$$($(DB)); export DATABASE_URL="$$url"; \
	$(CARGO) test --workspace --all-targets

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace

## Print a working DATABASE_URL (creating and starting the private cluster if need be).
db:
	@$(DB)

migrate:
	@url=$$($(DB)); DATABASE_URL="$$url" $(CARGO) run --quiet --bin ucp -- migrate
