# The one place that says how nodeunits is built, tested and installed.
# Newcomers: `make example` and `make test` (see README.md).

CARGO ?= cargo

.PHONY: all build test lint example

all: build

build:
	$(CARGO) build --release --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --locked --all-targets -- -D warnings

# The whole test suite: lint, unit and golden tests, and the integration
# tests on real systemd (they boot test hosts, so they need root).
test: lint
	$(CARGO) test --workspace --locked --all-targets -- --test-threads=2

example:
	examples/run
