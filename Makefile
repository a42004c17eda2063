# mindee-prep: `make demo` runs the tool on the bundled fixtures, `make test` runs every check.
SHELL := /bin/bash
CARGO ?= cargo
# Where cargo puts binaries (honours CARGO_TARGET_DIR).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
FIXTURE_DIRS := $(sort $(dir $(wildcard fixtures/*/)))

.PHONY: all deps build demo test bench compare legibility corpus fixtures clean python-sdk-check python-test

all: test

deps:
	@scripts/install-deps.sh

build: deps
	$(CARGO) build --all-targets

# Prepares every bundled fixture (the refusals are part of the show: exit status 1 is expected).
# Builds the binary alone: no tests, benches or dev-dependencies (their features would make
# cargo build the dependencies a second time).
demo: deps
	$(CARGO) build --bin mindee-prep
	@out=$${DEMO_OUT:-$$(mktemp -d -t mindee-prep-demo.XXXXXX)}; \
	  echo "# mindee-prep prepare $(FIXTURE_DIRS) -o $$out"; \
	  $(TARGET_DIR)/debug/mindee-prep prepare $(FIXTURE_DIRS) -o "$$out"; \
	  status=$$?; echo "outputs in $$out"; [ $$status -le 1 ] || exit $$status

test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test
	@# The library alone (no CLI, no simulator) must build and pass its own tests.
	$(CARGO) test --no-default-features --lib
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps
	@# The official Python SDK against our API simulator (needs python3 with venv and PyPI).
	@if command -v python3 >/dev/null 2>&1; then \
	  bash scripts/python_sdk_check.sh $(TARGET_DIR)/debug/mindee-prep; \
	else \
	  echo "python3 not found: skipping the Python SDK check"; \
	fi
	@# The Python package (python/): fmt + clippy of its crate, then the wheel (maturin, same
	@# target dir) in a fresh virtualenv with pytest; fails, never skips, when it cannot build.
	$(CARGO) fmt --check --manifest-path python/Cargo.toml
	$(CARGO) clippy --manifest-path python/Cargo.toml --target-dir $(TARGET_DIR) -- -D warnings
	bash scripts/python_test.sh $(TARGET_DIR)/debug/mindee-prep

python-sdk-check: build
	bash scripts/python_sdk_check.sh $(TARGET_DIR)/debug/mindee-prep

# The Python package's tests alone (builds the binary they compare against).
python-test: deps
	$(CARGO) build --bin mindee-prep
	bash scripts/python_test.sh $(TARGET_DIR)/debug/mindee-prep

bench: deps
	$(CARGO) bench

# Side by side with vipsthumbnail, Pillow and ImageMagick (installs them), writes BENCHMARKS.md;
# then the legibility benchmark.
compare: deps
	scripts/compare/run.sh
	scripts/legibility/run.sh

# Output bytes and OCR word accuracy (tesseract) against vipsthumbnail, Pillow and the SDK on
# generated pages of known text (fax, grey scan, photographed page, screenshot) and the document
# fixtures (installs tesseract-ocr, libvips-tools, Pillow, mindee); writes BENCHMARKS.md.
# LEGIBILITY_BASELINE=path/to/other/mindee-prep adds a before/after column.
legibility: deps
	scripts/legibility/run.sh

# Real files from the test suites of 22 public projects (fetched into ~/.cache/mindee-prep-corpus,
# not committed), each outcome judged by Pillow, libvips, libtiff, libheif and qpdf (installs them).
# Exits 1 when a file does not end as it should. CORPUS_BIN judges another build.
CORPUS_BIN ?= $(TARGET_DIR)/debug/mindee-prep
CORPUS_REPORT ?= $(TARGET_DIR)/corpus-report.md
corpus: deps
	$(CARGO) build --bin mindee-prep
	python3 scripts/corpus/fetch.py
	python3 scripts/corpus/run.py $(CORPUS_BIN) --report $(CORPUS_REPORT)

# Regenerates fixtures/ (needs Pillow, pillow-heif, pikepdf, libtiff-tools, qpdf; not needed to build or test).
fixtures:
	python3 fixtures/make_fixtures.py

clean:
	$(CARGO) clean
