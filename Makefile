# Build tags every build needs: FTS5 is not compiled into go-sqlite3 otherwise.
export GOFLAGS := -tags=sqlite_fts5
STATICCHECK := $(shell go env GOPATH)/bin/staticcheck
# ccusage, which the parity test (cli/parity_test.go) compares reports with; its native binary comes from npm.
CCUSAGE_VERSION := 20.0.24
CCUSAGE_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/insights-ci/ccusage-$(CCUSAGE_VERSION)
# DuckDB for Node, which the Parquet export's tests read the files back with (internal/duckdb).
DUCKDB_VERSION := 1.5.6-r.1
DUCKDB_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/insights-ci/duckdb-$(DUCKDB_VERSION)

.PHONY: build run test lint ccusage duckdb bench bench-peers clean

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

build:
	go build -ldflags "-X main.version=$(VERSION)" -o bin/insights .

run: build
	./bin/insights

lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted" >&2; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	go install honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Installs ccusage when npm is there; without it the parity test is skipped (and fails under CI=true).
ccusage:
	@if [ ! -d "$(CCUSAGE_DIR)/node_modules/@ccusage" ]; then \
	  if command -v npm >/dev/null; then \
	    timeout 300 npm install --silent --no-audit --no-fund --prefix "$(CCUSAGE_DIR)" ccusage@$(CCUSAGE_VERSION) || \
	      echo "could not install ccusage $(CCUSAGE_VERSION)" >&2; \
	  else echo "npm not found: the parity test against ccusage $(CCUSAGE_VERSION) will be skipped" >&2; fi; \
	fi
	@chmod +x "$(CCUSAGE_DIR)"/node_modules/@ccusage/*/bin/ccusage 2>/dev/null || true

# Installs @duckdb/node-api when npm is there; without it the DuckDB read-back tests are skipped (and fail under CI=true).
duckdb:
	@if [ ! -f "$(DUCKDB_DIR)/node_modules/@duckdb/node-api/package.json" ]; then \
	  if command -v npm >/dev/null; then \
	    timeout 300 npm install --silent --no-audit --no-fund --prefix "$(DUCKDB_DIR)" @duckdb/node-api@$(DUCKDB_VERSION) || \
	      echo "could not install @duckdb/node-api $(DUCKDB_VERSION)" >&2; \
	  else echo "npm not found: the DuckDB read-back tests will be skipped" >&2; fi; \
	fi

test: lint ccusage duckdb
	go test -count=1 ./...

bench:
	go test -run '^$$' -bench . -benchmem ./...

# insights against ccusage 20 and 18 on a generated 250 MB tree (see BENCHMARKS.md); SIZE=20MB for a quick look.
bench-peers:
	bench/peers.sh $(or $(SIZE),250MB) $(or $(ROUNDS),3)

clean:
	rm -rf bin
