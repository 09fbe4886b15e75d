# The one place that says how nodeunits is built, tested and installed.
# Newcomers: `make example` and `make test` (see README.md).

CARGO ?= cargo

.PHONY: all build test lint example bench bench-smoke

all: build

build:
	$(CARGO) build --release --locked

# The benchmark against PM2 (BENCHMARKS.md): the full run, on demand; it
# installs PM2 itself and writes bench/results/latest.{md,json}. nodeunits is
# measured as released; the runner itself is a debug build, so that a failure
# unwinds and powers its boxes off.
bench:
	$(CARGO) build --release --locked --workspace --bins
	$(CARGO) run --locked -p nodeunits-bench -- --bin-dir $${CARGO_TARGET_DIR:-target}/release

# Its short version for CI: one reload under load per app; fails unless
# nodeunits failed no request.
bench-smoke:
	$(CARGO) build --locked --workspace --bins
	$(CARGO) run --locked -p nodeunits-bench -- --smoke

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --locked --all-targets -- -D warnings

# The whole test suite: lint, unit and golden tests, and the integration
# tests on real systemd (they boot test hosts, so they need root).
test: lint
	$(CARGO) test --workspace --locked --all-targets -- --test-threads=2

example:
	examples/run
