# analytics-service — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CHDB_VERSION   := 26.7.3-stable.1
CACHE_HOME     ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
CHDB_DIR       ?= $(CACHE_HOME)/analyticsd/chdb/$(CHDB_VERSION)
CHDB_LIB       := $(CHDB_DIR)/package/libchdb.so
STATICCHECK    := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOBIN          ?= $(shell go env GOPATH)/bin
TEST_TIMEOUT   ?= 25m

export ANALYTICS_CHDB_LIB ?= $(CHDB_LIB)

.PHONY: help generate check-generate build run test eval-insights bench lint chdb clean web web-deps check-web check-deploy check-examples

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-16s %s\n", $$1, $$2}'

generate: ## Regenerate graph/ and resolvers/ (gqlgen) from schema.graphqls, schema/*.graphqls and gqlgen.yml
	go tool gqlgen generate

check-generate: generate ## Fail when `make generate` changes tracked files
	@git diff --exit-code -- graph resolvers || (echo "make generate changed files: commit the regenerated code" >&2; exit 1)

web-deps: web/node_modules/.package-lock.json ## Install the console's locked npm packages into web/node_modules

web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund

web: web-deps ## Rebuild the console bundle web/dist (committed; embedded in analyticsd) from web/src
	cd web && npm run build

check-web: ## Fail when web/dist differs from a fresh `make web`
	bash .ci/check-web.sh

check-examples: examples/typescript/node_modules/.package-lock.json ## Type-check the TypeScript client example (graphql-codegen + tsc) against the schema
	cd examples/typescript && npm run check

examples/typescript/node_modules/.package-lock.json: examples/typescript/package-lock.json examples/typescript/package.json
	cd examples/typescript && npm ci --no-audit --no-fund

check-deploy: ## Validate deploy/ (Kubernetes manifests against the API types, compose.yaml against the Compose spec, Dockerfile rules)
	cd deploy/check && go run . ..

build: ## Build bin/analyticsd
	go build -o bin/analyticsd ./cmd/analyticsd

run: chdb build ## Start everything in one process on embedded engines, with demo data
	./bin/analyticsd all

test: chdb web-deps ## Run every test (embedded ClickHouse, NATS, Redis; the ClickHouse server tests need ANALYTICS_TEST_CLICKHOUSE_ADDR)
	go test -count=1 -timeout $(TEST_TIMEOUT) ./...

eval-insights: chdb ## Score the built-in analyst on testdata/insights/gold.jsonl (accuracy per kind, grounded share)
	@out=$$(go test -count=1 -run 'TestGoldSet$$' -v ./insights/ 2>&1); status=$$?; \
	echo "$$out" | sed -n '/gold set:/,/^--- /p'; [ $$status -eq 0 ] || echo "$$out" | tail -40; exit $$status

bench: chdb build ## Measure throughput and latency against same-run baselines; writes docs/BENCHMARKS.md
	go run ./cmd/analyticsbench -out docs/BENCHMARKS.md

lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting" >&2; exit 1)
	go vet ./...
	@test -x $(GOBIN)/staticcheck || go install $(STATICCHECK)
	$(GOBIN)/staticcheck ./...

chdb: $(CHDB_LIB) ## Fetch the embedded ClickHouse engine (libchdb.so, ~180 MB) into the user cache, outside git

$(CHDB_LIB):
	@echo "fetching @chdb/lib-linux-x64-gnu@$(CHDB_VERSION) into $(CHDB_DIR)"
	mkdir -p $(CHDB_DIR)
	cd $(CHDB_DIR) && npm pack --silent @chdb/lib-linux-x64-gnu@$(CHDB_VERSION) >/dev/null \
		&& tar -xzf chdb-lib-linux-x64-gnu-$(CHDB_VERSION).tgz \
		&& rm -f chdb-lib-linux-x64-gnu-$(CHDB_VERSION).tgz
	@test -s $(CHDB_LIB)

clean: ## Remove build output and the local data directory
	rm -rf bin data
