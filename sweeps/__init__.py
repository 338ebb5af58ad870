"""Hyperparameter sweeps: a sweep file's search space, Optuna's study, the results table.

ZenML-free (the trials' pipeline runs are started by :mod:`pipelines.sweep`): the CLI checks
a sweep file with :mod:`sweeps.spec` before ZenML starts; :mod:`sweeps.study` builds the
Optuna study (sampler, pruner, storage) and :mod:`sweeps.report` scores trials and formats
the table.
"""
