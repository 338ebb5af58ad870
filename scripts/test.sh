#!/usr/bin/env bash
# Set up .venv with the dev tools and run lint, format check, type check and the test suite.
# Slow tests (marked `slow`) run only with RUN_SLOW=1. Browser tests (marked `browser`, headless
# Chromium against a local ZenML dashboard) run only in CI (CI=true) or with RUN_BROWSER=1; then
# Debian's chromium and chromium-driver are installed first if missing.
source "$(dirname "$0")/_venv.sh" "[dev]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
deselect=()
if [ "${RUN_SLOW:-0}" != "1" ]; then deselect+=("not slow"); fi
if [ "${CI:-}" = "true" ] || [ "${RUN_BROWSER:-0}" = "1" ]; then
  bash scripts/install_browser.sh
else
  deselect+=("not browser")
fi
markers=""
for expression in "${deselect[@]+"${deselect[@]}"}"; do
  markers="${markers:+$markers and }$expression"
done
exec .venv/bin/python -m pytest -m "$markers" "$@"
