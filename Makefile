# The one place that says how nodeunits is built, tested and installed.
# Newcomers: `make example` and `make test` (see README.md).

CARGO ?= cargo

.PHONY: all build test test-deps corpus corpus-test lint example install man completions deb rpm package-check bench bench-smoke fuzz fuzz-cmin

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

# Its short version for CI: one reload under load per app and one case of the
# busiest worker's share; fails unless nodeunits failed no request.
bench-smoke:
	$(CARGO) build --locked --workspace --bins
	$(CARGO) run --locked -p nodeunits-bench -- --smoke

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --locked --all-targets -- -D warnings

# The whole test suite: lint; both packages, linted, with their file lists;
# unit and golden tests; the integration tests on real systemd (they boot test
# hosts, so they need root); the corpus of real ecosystem files; the
# benchmark's smoke run against PM2.
test: test-deps lint package-check
	$(CARGO) test --workspace --locked --all-targets -- --test-threads=2
	$(MAKE) bench-smoke

example:
	examples/run

# The Debian packages the tests need, installed when missing (as root).
test-deps:
	tools/install-deps test

# The real ecosystem files of tests/pm2_corpus.rs, checked against their
# record (tests/corpus/sources.tsv), downloaded again from their
# repositories when missing or different.
corpus:
	tools/fetch-corpus

# The corpus test (tests/pm2_corpus.rs) on those files; NODEUNITS_BLESS=1
# rewrites tests/corpus/expected.txt.
corpus-test: corpus
	$(CARGO) test --locked --test pm2_corpus

# --- Fuzzing (docs/development.md, "Fuzzing") --------------------------------
# Each target of fuzz/ in turn, for FUZZ_RUNS inputs or FUZZ_SECONDS seconds
# (the first reached; -1 and 0 mean no bound), on the committed corpus and the
# seeds fuzz/seed writes. A crash stops it: the input is in fuzz/artifacts/.
# cargo-fuzz (`cargo install cargo-fuzz`) wants a nightly compiler:
# RUSTC_BOOTSTRAP=1 lets the stable one build it. No sanitizer by default: the
# code is safe Rust, twice as fast without (FUZZ_SANITIZER=address for ASan).
FUZZ_TARGETS ?= compile helper_args helper_ipc read_units
FUZZ_RUNS ?= -1
FUZZ_SECONDS ?= 60
FUZZ_SANITIZER ?= none
FUZZ_WORK ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/fuzz-work
FUZZ_TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
FUZZ := TMPDIR=$(FUZZ_WORK) RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --sanitizer $(FUZZ_SANITIZER)

fuzz:
	fuzz/seed $(FUZZ_WORK)/seeds
	for target in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_WORK)/corpus/$$target && \
	  $(FUZZ) --target-dir $(FUZZ_TARGET_DIR)/fuzz $$target \
	    $(FUZZ_WORK)/corpus/$$target fuzz/corpus/$$target $(FUZZ_WORK)/seeds/$$target -- \
	    -runs=$(FUZZ_RUNS) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 || exit 1; \
	done

# What `make fuzz` found, folded into fuzz/corpus/ and minimised, as
# `cargo fuzz cmin` does but by a greedy set cover, and for the coverage of
# nodeunits' own code only (see fuzz/nodeunits-coverage-only): a few hundred
# inputs per target. Inputs with a name (seed-*, regression-*, edge-*) stay;
# the fuzzer's, named by their hash, stay if they add coverage.
fuzz-cmin:
	fuzz/seed $(FUZZ_WORK)/seeds
	for target in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_WORK)/min/$$target && mkdir -p $(FUZZ_WORK)/min/$$target && \
	  cp fuzz/corpus/$$target/*-* $(FUZZ_WORK)/min/$$target/ 2>/dev/null; \
	  RUSTC_WRAPPER=$(CURDIR)/fuzz/nodeunits-coverage-only \
	  $(FUZZ) --target-dir $(FUZZ_TARGET_DIR)/fuzz-cmin $$target $(FUZZ_WORK)/min/$$target \
	    fuzz/corpus/$$target $(FUZZ_WORK)/corpus/$$target $(FUZZ_WORK)/seeds/$$target -- \
	    -set_cover_merge=1 -use_counters=0 -timeout=10 || exit 1; \
	  rm -rf fuzz/corpus/$$target && mv $(FUZZ_WORK)/min/$$target fuzz/corpus/$$target; \
	done

# --- Installing and packaging (see packaging/README.md) ----------------------
# `make install` is the one place that says where each file goes; the .deb and
# the .rpm both run it with DESTDIR. It installs the prebuilt release binaries:
# run `make build` first (as your user, not root).

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
PREFIX ?= /usr
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/nodeunits
LICENSEDIR ?= $(DOCDIR)
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
RELEASE_DIR ?= $(or $(CARGO_TARGET_DIR),target)/release
PACKAGE_DIR ?= target/packages
INSTALL ?= install

install:
	@for bin in nodeunits nodeunits-helper; do \
	  test -x $(RELEASE_DIR)/$$bin || { echo "$(RELEASE_DIR)/$$bin is missing: run 'make build' first" >&2; exit 1; }; \
	done
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(LICENSEDIR) \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL) -m 0755 $(RELEASE_DIR)/nodeunits $(RELEASE_DIR)/nodeunits-helper $(DESTDIR)$(BINDIR)
	for page in man/*.[158]; do \
	  gzip -9n < $$page > $(DESTDIR)$(MANDIR)/man$${page##*.}/$${page##*/}.gz && \
	  chmod 0644 $(DESTDIR)$(MANDIR)/man$${page##*.}/$${page##*/}.gz || exit 1; \
	done
	$(INSTALL) -m 0644 packaging/completions/nodeunits.bash $(DESTDIR)$(BASHCOMPDIR)/nodeunits
	$(INSTALL) -m 0644 packaging/completions/_nodeunits $(DESTDIR)$(ZSHCOMPDIR)/_nodeunits
	$(INSTALL) -m 0644 packaging/completions/nodeunits.fish $(DESTDIR)$(FISHCOMPDIR)/nodeunits.fish
	$(INSTALL) -m 0644 README.md CHANGELOG.md $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs
	$(INSTALL) -m 0644 LICENSE $(DESTDIR)$(LICENSEDIR)

# Regenerate the committed man pages and shell completions from the clap
# definition in src/cli/args/ (tests/man_pages.rs fails when they are stale).
man completions:
	NODEUNITS_BLESS=1 $(CARGO) test --locked --test man_pages

deb: build
	packaging/deb/build $(VERSION) $(PACKAGE_DIR)

rpm: build
	packaging/rpm/build $(VERSION) $(PACKAGE_DIR)

# Both packages, linted, with their file lists checked (run by .ci/run).
package-check:
	packaging/check
