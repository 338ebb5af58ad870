#!/usr/bin/env bash
# Set up .venv with the dev tools and run lint, format check, type check and the test suite.
# Slow tests (marked `slow`) run only with RUN_SLOW=1.
source "$(dirname "$0")/_venv.sh" "[dev]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
markers="not slow"
if [ "${RUN_SLOW:-0}" = "1" ]; then markers=""; fi
exec .venv/bin/python -m pytest -m "$markers" "$@"
