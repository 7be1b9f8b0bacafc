# ghr — see README.md. Every target works on a fresh machine after scripts/check-tools.sh.
SHELL      := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO         ?= go
ARCH       ?= arm64
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LAMBDAS    := $(notdir $(wildcard lambdas/*))
LDFLAGS    := -s -w -buildid= -X github.com/ghr-dev/ghr/internal/version.Version=$(VERSION)
FUZZTIME   ?= 2000x

.PHONY: all build dist demo test unit fuzz lint bench tools clean release

all: build

build:
	$(GO) build ./...

# dist/<name>.zip: a static `bootstrap` for the provided.al2023 runtime, zipped reproducibly.
dist: $(LAMBDAS:%=dist/%.zip)

dist/%.zip: FORCE
	@mkdir -p build/$* dist
	CGO_ENABLED=0 GOOS=linux GOARCH=$(ARCH) $(GO) build -trimpath -tags lambda.norpc \
		-ldflags '$(LDFLAGS)' -o build/$*/bootstrap ./lambdas/$*
	$(GO) run ./cmd/reprozip -o $@ -C build/$* bootstrap

FORCE:

# make release VERSION=x.y.z: every function for arm64 and amd64 (<fn>_linux_<arch>.zip), the
# ghr CLI for linux and macOS, a CycloneDX SBOM and SHA256SUMS in dist/release/x.y.z. The
# same commit gives the same bytes (internal/release). CI runs exactly this on a version tag.
SBOM_TOOL := github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0
release:
	@if [[ "$(origin VERSION)" != "command line" ]]; then echo "usage: make release VERSION=x.y.z" >&2; exit 2; fi
	GOBIN=$(CURDIR)/build/tools $(GO) install $(SBOM_TOOL)
	rm -rf dist/release/$(VERSION)
	$(GO) run ./cmd/release -version '$(VERSION)' -o dist/release/$(VERSION) -sbom $(CURDIR)/build/tools/cyclonedx-gomod

# The local end-to-end demo: the real module applied to moto_server, the real Lambda binaries
# (built for this machine's architecture), a GitHub simulator and simulated runner hosts.
demo: tools
	$(MAKE) dist ARCH=$$($(GO) env GOARCH)
	$(GO) run ./cmd/ghr local demo

tools:
	bash scripts/check-tools.sh

# The README's test command: tools, lint (Go, shell, tfsec), every test (moto_server
# integration, terraform apply and the end-to-end sandbox included), and each fuzz target.
test: tools lint unit fuzz

# The fast set first (no moto_server, terraform, Lambda builds or sandbox; see
# internal/harness/testutil/slow) so a broken rule fails in about a minute, then every test.
# The sandbox package (the E2E suite with the soak) runs past go test's 10-minute default on a
# 2-core machine, so the full pass gets 40 minutes.
unit:
	$(GO) test -short -count=1 ./...
	$(GO) test -count=1 -timeout 50m ./...

fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	bash scripts/shellcheck.sh
	bash scripts/terraform-checks.sh

# Every benchmark, then the report (bench/results/report.{md,json}); fails on a missed target.
# The sandbox burst deploys the whole system and takes minutes, so it runs once (its first
# iteration outlasts the default benchtime) and the 10-minute default timeout is raised.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./... 2>&1 | $(GO) run ./cmd/benchreport -o bench/results

clean:
	rm -rf build dist
