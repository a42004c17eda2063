# mindee-prep: `make demo` runs the tool on the bundled fixtures, `make test` runs every check.
SHELL := /bin/bash
CARGO ?= cargo
DEMO_OUT ?= $(shell mktemp -d -t mindee-prep-demo.XXXXXX)

.PHONY: all deps build demo test bench compare fixtures clean python-sdk-check

all: test

deps:
	@scripts/install-deps.sh

build: deps
	$(CARGO) build --bins

# Prepares every bundled fixture (the refusals are part of the show: exit status 1 is expected).
demo: build
	@echo "# mindee-prep prepare fixtures -o $(DEMO_OUT)"
	@$(CARGO) run --quiet --bin mindee-prep -- prepare fixtures -o $(DEMO_OUT); \
	  status=$$?; [ $$status -le 1 ] || exit $$status
	@echo "outputs in $(DEMO_OUT)"

test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps
	@# The official Python SDK against our API simulator (needs python3 with venv and PyPI).
	@if command -v python3 >/dev/null 2>&1; then \
	  bash scripts/python_sdk_check.sh target/debug/mindee-prep; \
	else \
	  echo "python3 not found: skipping the Python SDK check"; \
	fi

python-sdk-check: build
	bash scripts/python_sdk_check.sh target/debug/mindee-prep

bench: deps
	$(CARGO) bench

# Side by side with vipsthumbnail, Pillow and ImageMagick (installs them), writes BENCHMARKS.md.
compare: deps
	scripts/compare/run.sh

# Regenerates fixtures/ (needs Pillow, pillow-heif, pikepdf, libtiff-tools, qpdf; not needed to build or test).
fixtures:
	python3 fixtures/make_fixtures.py

clean:
	$(CARGO) clean
