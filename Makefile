# The two commands: `make run` and `make test`. Both set up PostgreSQL when DATABASE_URL is
# not given (scripts/dev-db.sh) and are safe to run again.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
DB := scripts/dev-db.sh

.PHONY: run test test-only test-sdk test-contract sdk lint fmt build migrate db openapi seed bench fuzz fuzz-api db-stop db-remove bench-micro ha-up ha-down test-ha

# A development secret for HS256 tokens; set UCP_JWT_SECRET to your own anywhere that matters.
export UCP_JWT_SECRET ?= ucp-development-secret-do-not-use-in-production

## Serve the API on UCP_LISTEN (default 127.0.0.1:8080), setting up everything first:
## PostgreSQL, migrations, demo data (once), and a token per role printed for curl.
run:
	@url=$$($(DB)); export DATABASE_URL="$$url"; \
	$(CARGO) build --bin ucp; \
	./target/debug/ucp migrate; \
	pdf=$$(./target/debug/ucp seed --demo --count 20 --access-day); \
	echo "DATABASE_URL=$$url"; \
	echo "Development tokens (valid 12 h):"; \
	for role in clinician ambulance nhs111 ooh dispatch admin; do \
	  printf '  %-10s %s\n' "$$role" "$$(./target/debug/ucp token --role $$role --org F84001 --name "Demo $$role" --ttl 12h)"; \
	done; \
	printf '  %-10s %s\n' patient "$$(./target/debug/ucp token --role patient --nhs-number 9990000018 --ttl 12h)"; \
	printf '  %-10s %s\n' care-home "$$(./target/debug/ucp token --role care-home --org VM1A2 --org-name 'Rosewood Care Home' --name 'Demo carer' --ttl 12h)"; \
	printf '  %-10s %s\n' privacy-officer "$$(./target/debug/ucp token --role privacy-officer --org F84001 --name 'Demo privacy officer' --ttl 12h)"; \
	echo "API reference: http://$${UCP_LISTEN:-127.0.0.1:8080}/docs/"; \
	echo "FHIR R4 (UK Core): http://$${UCP_LISTEN:-127.0.0.1:8080}/fhir/R4/metadata"; \
	echo "A printed plan (with a clinician's token): curl -o plan.pdf -H \"Authorization: Bearer <clinician token>\" http://$${UCP_LISTEN:-127.0.0.1:8080}$$pdf"; \
	UCP_STAFF_DIRECTORY=$${UCP_STAFF_DIRECTORY:-config/staff-directory.example.csv} exec ./target/debug/ucp serve

## Lint, then every test against real PostgreSQL and real HTTP.
test: lint test-only

test-only:
	@scripts/test-tools.sh
	@url=$$($(DB)); export DATABASE_URL="$$url"; \
	$(CARGO) test --workspace --all-targets
	@$(MAKE) --no-print-directory test-sdk
	@$(MAKE) --no-print-directory test-contract

## From outside: the README's "Try it" block run as written, the printed-copy check page in
## headless Chromium (Playwright, axe-core), every FHIR resource of the demo
## people validated with fhir.resources (R4B) and the UK Core rules, a bounded
## schemathesis pass (every check, as a clinician, an admin, a patient and a care home), and the fault drill
## (PostgreSQL restarts and a SIGKILLed server under load) and the backup and restore drill
## (pg_dump/pg_restore; base backup plus WAL archive), and the HA drill (make test-ha), each
## against live servers.
test-contract:
	@scripts/readme-walkthrough.sh
	@scripts/check-page-test.sh
	@scripts/fhir-validate.sh
	@scripts/schemathesis.sh
	@scripts/fault-test.sh
	@scripts/restore-drill.sh
	@scripts/test-ha.sh

## Hostile input as property tests (proptest, stable Rust): FUZZ_CASES cases per property
## (default 20000); found cases are saved in crates/ucp-domain/tests/*.proptest-regressions.
fuzz:
	FUZZ_CASES=$${FUZZ_CASES:-20000} $(CARGO) test -p ucp-domain --test hostile_input

## The long schemathesis pass: SCHEMATHESIS_MAX_TIME seconds per role (default 900).
fuzz-api:
	@scripts/schemathesis.sh --long

## The TypeScript SDK: generated code current, strict type-check, tests against a live server.
test-sdk:
	@scripts/sdk-test.sh

## PostgreSQL HA on this machine (pg_auto_failover: monitor, primary, synchronous standby).
ha-up:
	@scripts/ha.sh up

ha-down:
	@scripts/ha.sh down

## The HA drill: the primary SIGKILLed under writers, readers and a feed follower; switched back;
## the standby restarted. Asserts no acknowledged write lost or applied twice, read-your-writes,
## a gapless feed; prints the failover time.
test-ha:
	@scripts/test-ha.sh

## Regenerate the TypeScript SDK's types from openapi/ucp.openapi.json.
sdk:
	cd sdk/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run generate

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

## Stop the private cluster; remove it (stop, then delete its data).
db-stop:
	@$(DB) stop

db-remove:
	@$(DB) remove

## The service against floors measured in the same run (release build, wrk, pgbench): one
## table of ops/s, p50, p99, baseline and ratio, also in target/bench/results.json.
## BENCH_PLANS=1000000 for the scale run.
bench:
	@scripts/bench.sh

## The two mechanisms' own benchmarks: group commit against one commit per entry, NOTIFY
## wake-up against polling.
bench-micro:
	@url=$$($(DB)); DATABASE_URL="$$url" $(CARGO) bench --bench ucp_bench

## Write the OpenAPI document generated from the code to openapi/ (a test fails when it drifts).
openapi:
	$(CARGO) run --quiet --bin ucp -- openapi > openapi/ucp.openapi.json

seed:
	@url=$$($(DB)); DATABASE_URL="$$url" $(CARGO) run --quiet --bin ucp -- seed --demo --count $${COUNT:-200}

migrate:
	@url=$$($(DB)); DATABASE_URL="$$url" $(CARGO) run --quiet --bin ucp -- migrate
