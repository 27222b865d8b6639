# kontor — see README.md. `make demo` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
GO ?= go
DEMO_DATA ?= fixtures/demo
FUZZTIME ?= 60s
# The S3-compatible server the archive tests start on loopback.
VERSITYGW := github.com/versity/versitygw/cmd/versitygw@v1.8.0
# The Stripe API server the charge tests drive stripe-go against on loopback.
STRIPE_MOCK := github.com/stripe/stripe-mock@v0.203.0
# Debian packages the official e-invoice validators in ../shared/validation need, and the
# tests that render PDF pages to images (poppler-utils) and read their QR codes (zbar-tools).
VALIDATOR_PKGS := default-jre-headless libsaxonhe-java libxml2-utils qpdf poppler-utils jq python3-fonttools zbar-tools
# The linters make lint runs (.golangci.yml says why each is on), at a pinned version.
GOLANGCI_LINT := github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
GOBIN := $(shell $(GO) env GOPATH)/bin
# Debian's Chromium: the run report is tested in a real headless browser.
BROWSER_PKGS := chromium

.PHONY: all build demo preview test deps lint fmt-check vet fuzz bench clean

all: build

build:
	$(GO) build -o bin/kontor ./cmd/kontor

DEMO_AS_OF ?= 2026-11-01

## demo: the period-end run of the demo dataset as of 2026-11-01: creates and migrates the
## database ($$DATABASE_URL, default local kontor), imports fixtures/demo, runs, archives
## PDF and XML to ./out/archive ($$KONTOR_ARCHIVE), prints the summary. Again: issues nothing.
demo: build
	@scripts/ensure-postgres
	./bin/kontor migrate
	./bin/kontor import --data $(DEMO_DATA)
	./bin/kontor run --as-of $(DEMO_AS_OF)

## preview: the same run without a database: drafts as PDF and XML in out/preview
preview: build
	mkdir -p out
	./bin/kontor preview --data $(DEMO_DATA) --out out/preview --json out/preview/preview.json

## test: validators' packages, vet, gofmt and every test with the race detector
test: deps lint
	$(GO) test -race -count=1 -timeout 20m ./...

## deps: install what the tests need when it is missing: PostgreSQL on 127.0.0.1:5432,
## versitygw, stripe-mock, golangci-lint, the validators' Debian packages, Chromium
deps:
	@scripts/ensure-postgres
	@if [ -x "$(GOBIN)/golangci-lint" ] && "$(GOBIN)/golangci-lint" version 2>/dev/null | grep -q 'version 2.15.0'; then \
		echo "deps: golangci-lint present"; \
	else \
		echo "deps: installing $(GOLANGCI_LINT)"; \
		GOFLAGS=-buildvcs=false $(GO) install $(GOLANGCI_LINT); \
	fi
	@if command -v versitygw >/dev/null || [ -x "$$($(GO) env GOPATH)/bin/versitygw" ]; then \
		echo "deps: versitygw present"; \
	else \
		echo "deps: installing $(VERSITYGW) (S3-compatible server for the archive tests)"; \
		GOFLAGS=-buildvcs=false $(GO) install $(VERSITYGW); \
	fi
	@if command -v stripe-mock >/dev/null || [ -x "$$($(GO) env GOPATH)/bin/stripe-mock" ]; then \
		echo "deps: stripe-mock present"; \
	else \
		echo "deps: installing $(STRIPE_MOCK) (Stripe API server for the charge tests)"; \
		GOFLAGS=-buildvcs=false $(GO) install $(STRIPE_MOCK); \
	fi
	@if command -v java >/dev/null && command -v xmllint >/dev/null && command -v qpdf >/dev/null \
	   && command -v pdfdetach >/dev/null && command -v pdftoppm >/dev/null && command -v zbarimg >/dev/null && command -v jq >/dev/null && [ -f /usr/share/java/Saxon-HE.jar ] \
	   && /usr/bin/python3 -c 'import fontTools' 2>/dev/null; then \
		echo "deps: validator packages present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(VALIDATOR_PKGS); \
	else \
		echo "deps: WARNING: the e-invoice validators cannot run here; install: sudo apt-get install -y $(VALIDATOR_PKGS)"; \
	fi
	@if command -v chromium >/dev/null; then \
		echo "deps: chromium present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(BROWSER_PKGS); \
	else \
		echo "deps: WARNING: the report's browser test cannot run here; install: sudo apt-get install -y $(BROWSER_PKGS)"; \
	fi

## lint: go vet, gofmt and golangci-lint (.golangci.yml)
lint: vet fmt-check
	"$(GOBIN)/golangci-lint" run ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## fuzz: run the fuzz targets (dataset loader, e-invoice rendering), FUZZTIME each
fuzz:
	$(GO) test ./dataset -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./zugferd -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME)

## bench: measure rendering, rating, import and end-to-end runs; writes BENCHMARKS.md
## (SIZES="customers:events ..." to choose the datasets; takes about 20 minutes)
bench:
	scripts/bench

clean:
	rm -rf bin out
