# The two commands of the README: `make demo` and `make test`. Each installs what it needs first.
SWIFT ?= swift
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev

.PHONY: deps demo test build release lint bench

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: build
	$(SWIFT) run reconcile demo

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

lint:
	$(SWIFT) format lint --strict -r Package.swift Sources Tests

# Ingest benchmark (release build): make bench LINES=1000000
LINES ?= 1000000
bench: deps
	bash benchmarks/ingest.sh $(LINES)
