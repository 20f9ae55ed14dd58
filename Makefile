# Two commands for a fresh clone:
#   make run    set up .venv on first use, then start the live recognizer (ARGS="--source video.mp4" etc.)
#   make test   set up .venv on first use, then run the whole test suite
# Python 3.11 or 3.12: mediapipe 0.10.21 has wheels up to 3.12, and the pinned web stack (FastAPI,
# websockets) needs 3.11. 3.11 first (the torch wheels on our CI disk are 3.11); a python3 of either also does.
PYTHON ?= $(shell for p in python3.11 python3.12 python3; do $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV ?= .venv
STAMP := $(VENV)/.installed
NEED_GB ?= 8
FINGERSPELL_DATA ?= $(abspath ../shared/data)
export FINGERSPELL_DATA

.PHONY: run test setup lint xvfb chromium clean-venv

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: need Python 3.11 or 3.12 (mediapipe 0.10.21 has no wheel for newer ones; FastAPI and websockets need 3.11): install python3.11 (e.g. with pyenv or your package manager) and rerun"; exit 1; }
	@free=$$(df -Pk . | awk 'NR==2 {print int($$4/1048576)}'); test "$$free" -ge $(NEED_GB) || { \
	  echo "error: $(VENV) needs about $(NEED_GB) GB of free disk (torch, mediapipe) and $$(pwd) has $$free GB: free some space (old clones, /tmp) and rerun"; exit 1; }
	@echo "setting up $(VENV) with $(PYTHON): on first use and after pyproject.toml changes; the first time takes several minutes (torch and mediapipe are large downloads)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install --progress-bar on -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/fingerspell live $(ARGS)

# The GUI tests need an X server: install Xvfb when it is missing (as root, or with sudo).
xvfb:
	@command -v Xvfb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq xvfb >/dev/null; }

# The web app's browser test drives Debian's Chromium with Playwright (Playwright cannot download
# its own browser here): install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Two pytest processes (pytest-xdist), each given whole test files: about 8 minutes instead of 13
# on 2 cores. PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2
test: $(STAMP) xvfb chromium
	$(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

clean-venv:
	rm -rf $(VENV)
