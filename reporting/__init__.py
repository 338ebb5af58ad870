"""Reporting: what a run shows people, apart from the RL core and the games.

- :mod:`reporting.progress`: progress bars that work inside ZenML steps;
- :mod:`reporting.tensorboard`: TensorBoard scalars of a training run;
- :mod:`reporting.media`: an evaluation episode as a GIF, the learning curves as a PNG.

The training loop (:class:`agents.training.Trainer`) imports none of these: the caller hands
it a progress bar factory and a scalar writer.
"""
