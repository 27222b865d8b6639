# kontor — see README.md. `make demo` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
GO ?= go
DEMO_DATA ?= fixtures/demo
FUZZTIME ?= 60s

.PHONY: all build demo test lint fmt-check vet fuzz bench clean

all: build

build:
	$(GO) build -o bin/kontor ./cmd/kontor

## demo: run kontor on the embedded demo dataset (the period-end run as of 2026-11-01)
demo: build
	mkdir -p out
	./bin/kontor preview --data $(DEMO_DATA) --json out/demo-preview.json

## test: vet, gofmt and every test with the race detector
test: lint
	$(GO) test -race -count=1 ./...

lint: vet fmt-check

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## fuzz: run the dataset loader fuzz target for FUZZTIME
fuzz:
	$(GO) test ./dataset -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)

## bench: run the benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin out
