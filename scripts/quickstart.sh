#!/usr/bin/env bash
# Set up .venv and train DQN on Breakout through the ZenML pipeline (about 10 minutes on
# 2 cores), ending with the evaluation table. Extra arguments go to run_pipeline.py.
source "$(dirname "$0")/_venv.sh" "[local,remote]"
exec .venv/bin/python run_pipeline.py --config configs/breakout_quick.yaml "$@"
