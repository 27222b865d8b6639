# kontor — see README.md. `make demo` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
GO ?= go
DEMO_DATA ?= fixtures/demo
FUZZTIME ?= 60s
# Debian packages the official e-invoice validators in ../shared/validation need.
VALIDATOR_PKGS := default-jre-headless libsaxonhe-java libxml2-utils qpdf poppler-utils jq python3-fonttools

.PHONY: all build demo test deps lint fmt-check vet fuzz bench clean

all: build

build:
	$(GO) build -o bin/kontor ./cmd/kontor

## demo: run kontor on the embedded demo dataset (the period-end run as of 2026-11-01)
demo: build
	mkdir -p out
	./bin/kontor preview --data $(DEMO_DATA) --out out/demo --json out/demo/preview.json

## test: validators' packages, vet, gofmt and every test with the race detector
test: deps lint
	$(GO) test -race -count=1 -timeout 20m ./...

## deps: install what the tests need (the validators' Debian packages) when it is missing
deps:
	@if command -v java >/dev/null && command -v xmllint >/dev/null && command -v qpdf >/dev/null \
	   && command -v pdfdetach >/dev/null && command -v jq >/dev/null && [ -f /usr/share/java/Saxon-HE.jar ] \
	   && /usr/bin/python3 -c 'import fontTools' 2>/dev/null; then \
		echo "deps: validator packages present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(VALIDATOR_PKGS); \
	else \
		echo "deps: WARNING: the e-invoice validators cannot run here; install: sudo apt-get install -y $(VALIDATOR_PKGS)"; \
	fi

lint: vet fmt-check

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## fuzz: run the fuzz targets (dataset loader, e-invoice rendering), FUZZTIME each
fuzz:
	$(GO) test ./dataset -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./zugferd -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME)

## bench: run the benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin out
