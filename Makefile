# Build tags every build needs: FTS5 is not compiled into go-sqlite3 otherwise.
export GOFLAGS := -tags=sqlite_fts5
STATICCHECK := $(shell go env GOPATH)/bin/staticcheck

.PHONY: build run test lint bench clean

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

test: lint
	go test -count=1 ./...

bench:
	go test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
