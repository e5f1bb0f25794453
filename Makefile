# The quick start: `make run` sets up and runs the bot, `make test` sets up and runs every test.
# Dependencies come from the hash-pinned lock (requirements/dev-lock.txt: the runtime pins of
# requirements/lock.txt plus the dev extra; both hold the build backend, so the project installs
# without build isolation); `make lock` regenerates both from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/lock.txt
DEV_LOCK := requirements/dev-lock.txt
UV := $(BIN)/uv
COMPILE := $(UV) pip compile pyproject.toml requirements/build.in --quiet --generate-hashes --python-version 3.11

.PHONY: run test lint lock clean bytecode

$(STAMP): pyproject.toml $(LOCK) $(DEV_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python requirements/check.py
	touch $(STAMP)

# The project's own bytecode, as pip writes it for an installed wheel and the image does:
# with PYTHONDONTWRITEBYTECODE set (as on CI's machine) every process, each test's
# subprocesses included, would otherwise compile the sources again. Only changed files
# are recompiled; a stale file is never used (Python checks each source's mtime).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q bot adapters conversations storage tests

run: $(STAMP) bytecode
	$(BIN)/mentorbot run

# pytest-xdist workers: one per core and one for the soak, which mostly waits (CI has two
# cores, so three); the browser tests share one worker and its Chromium (xdist_group), and
# the soak starts first (tests/conftest.py).
test: $(STAMP) bytecode
	$(BIN)/python -m pytest -q -n auto --maxprocesses 3 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Pin every dependency after pyproject.toml's dependencies changed: the runtime lock first,
# then the dev lock constrained to the same runtime versions. Pins already in the lock files
# are kept; `make lock LOCK_FLAGS=--upgrade` moves everything to the newest allowed release.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install --quiet uv
	$(COMPILE) $(LOCK_FLAGS) -o $(LOCK)
	$(COMPILE) $(LOCK_FLAGS) --extra dev -c $(LOCK) -o $(DEV_LOCK)

clean:
	rm -rf $(VENV) build *.egg-info
