"""Step: train the agent, checkpointing on a schedule and on Ctrl-C or SIGTERM."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from zenml import get_step_context, log_metadata, step
from zenml.logger import get_logger

from agents.checkpoint import TrainingCheckpoint
from agents.dqn import DQNAgent
from agents.interrupts import GracefulInterrupt, TrainingInterrupted
from agents.replay import ReplayBuffer
from agents.training import Trainer, stop_message, train_with_checkpoints
from agents.vector import games_in
from config import RunConfig, resume_command, run_dir_name
from envs.base import GameWrapper
from envs.evaluation import validator
from envs.registry import game_slug, training_games
from materializers import AgentMaterializer
from reporting.progress import progress_bar
from reporting.tensorboard import ScalarWriter
from steps.artifact_files import copy_directory, store_uri
from steps.checkpointing import load_artifact_version, prune_checkpoints, save_checkpoint

logger = get_logger(__name__)


def _trainer(
    config: RunConfig,
    game_wrapper: GameWrapper,
    agent: DQNAgent,
    replay_buffer: ReplayBuffer,
    resume: dict[str, Any] | None,
    scalars: ScalarWriter | None,
) -> Trainer:
    """A fresh trainer, or one continuing the resume point chosen by get_information_meta;
    it validates on the game's evaluation protocol (``train.eval_every``)."""
    validation = validator(config)
    if resume is None:
        games = training_games(config.env, game_wrapper)
        return Trainer(
            games, agent, replay_buffer, config, scalars, progress_bar, validator=validation
        )
    loaded = load_artifact_version(resume["artifact_version_id"])
    if resume["kind"] == "checkpoint":
        assert isinstance(loaded, TrainingCheckpoint)
        shape = tuple(game_wrapper.observation_space.shape or ())
        if loaded.agent.observation_shape != shape:
            raise ValueError(
                f"the checkpoint being resumed holds an agent for observations of shape "
                f"{loaded.agent.observation_shape}, but this version of {config.game} observes "
                f"{shape}; it was written by an earlier version: train a new run instead"
            )
        played = len(games_in(loaded.game))
        if played != config.env.num_envs:
            raise ValueError(
                f"env.num_envs={config.env.num_envs} does not match the checkpoint being "
                f"resumed, which plays {played} game(s) side by side; resume with "
                f"--num-envs {played}"
            )
        return Trainer.from_checkpoint(loaded, config, scalars, progress_bar, validation)
    games = training_games(config.env, game_wrapper)
    # a finished run's agent: continual training with this run's fresh game and buffer
    assert isinstance(loaded, DQNAgent)
    return Trainer(
        games, loaded, replay_buffer, config, scalars, progress_bar, validator=validation
    )


@step(enable_cache=False, output_materializers={"trained_agent": AgentMaterializer})
def train(
    config: RunConfig,
    game_wrapper: GameWrapper,
    agent: DQNAgent,
    replay_buffer: ReplayBuffer,
    information_meta: dict[str, Any],
) -> tuple[
    Annotated[DQNAgent, "trained_agent"],
    Annotated[dict[str, Any], "training_history"],
]:
    """Train up to ``train.steps`` agent steps, from scratch or from the resume point.

    Every ``train.eval_every`` steps and at the end the agent plays ``train.eval_episodes``
    validation games; with ``train.keep_best`` the output is the agent with the best mean
    validation score (its step and score are in the metadata), not the last.

    A checkpoint is saved every ``train.checkpoint_every`` steps and when training ends; only
    this run's newest ``train.keep_checkpoints`` keep their data. On Ctrl-C or SIGTERM the
    current step finishes, a checkpoint is written and the step fails with the command that
    resumes the run (a signal that arrives once the last step is done lets the step finish;
    the CLI then stops before the next step).
    """
    import tensorflow as tf

    run_name = get_step_context().pipeline_run.name
    if config.train.deterministic_ops:
        tf.config.experimental.enable_op_determinism()
    scalars = _Scalars.for_run(config, run_name)
    resume = information_meta.get("resume")
    trainer = _trainer(config, game_wrapper, agent, replay_buffer, resume, scalars.writer)
    # train.steps, or for a scheduled run the previous run's step plus train.steps_per_run
    target_steps = int(information_meta["train_steps"])
    save = _saver(trainer, config, run_name, target_steps, scalars)
    stopping = "finishing the current step, then writing a checkpoint"
    with GracefulInterrupt(on_stop=stopping) as interrupt:
        every = config.train.checkpoint_every
        saved = train_with_checkpoints(trainer, target_steps, every, save, interrupt)
    scalars.close()
    history = _log_training(trainer, saved, interrupt)
    if interrupt.requested and trainer.agent.steps < target_steps:
        argv = ["--game", config.game, "--steps", str(target_steps)]
        hint = f"resume with: {resume_command(argv, run_name)} (plus the --config you started with)"
        message = stop_message(run_name, interrupt.signal_name, trainer, saved[-1], hint)
        raise TrainingInterrupted(message, interrupt.signal_name, interrupt.exit_code, run_name)
    _keep_best(trainer)
    return trainer.agent, history


def _keep_best(trainer: Trainer) -> None:
    """Hand on the best validated weights (``train.keep_best``) rather than the last, and say
    which; the checkpoints keep the last weights, which a resume continues."""
    kept = trainer.keep_best()
    if kept is None:
        return
    scores = trainer.history.validation_scores
    logger.info(
        "keeping the agent of step %d (mean validation score %g); the last agent scored %g",
        kept.step,
        kept.score,
        scores[-1],
    )
    log_metadata(
        metadata={
            "best_agent_step": kept.step,
            "best_validation_score": kept.score,
            "last_validation_score": scores[-1],
        }
    )


def _saver(
    trainer: Trainer, config: RunConfig, run_name: str, target_steps: int, scalars: _Scalars
) -> Callable[[bool], str]:
    """What saves a checkpoint of ``trainer`` (argument: final), prunes this run's old ones
    and publishes the scalars; it returns the checkpoint's label."""

    def save(final: bool) -> str:
        checkpoint = trainer.checkpoint(target_steps, final=final)
        version = save_checkpoint(checkpoint, run_name)
        label = f"{version.artifact.name}:{version.version}"
        logger.info("checkpoint %s saved at agent step %d", label, checkpoint.agent_step)
        for pruned in prune_checkpoints(config.game, config.train.keep_checkpoints, run_name):
            logger.info("deleted the data of old checkpoint %s", pruned)
        scalars.publish()
        return label

    return save


class _Scalars:
    """The run's TensorBoard scalars: written on the step's own disk, copied into the artifact
    store with each checkpoint and at the end (nothing at all without ``tensorboard_dir``)."""

    def __init__(self, writer: ScalarWriter | None, uri: str = ""):
        self.writer = writer
        self.uri = uri

    @classmethod
    def for_run(cls, config: RunConfig, run_name: str) -> _Scalars:
        if not config.train.tensorboard_dir:
            return cls(None)
        run_dir = run_dir_name(run_name)  # a run name never leaves its parent directory
        logdir = Path(config.train.tensorboard_dir) / game_slug(config.game) / run_dir
        uri = store_uri("tensorboard", game_slug(config.game), run_dir)
        log_metadata(metadata={"tensorboard_logdir": str(logdir.resolve()), "tensorboard_uri": uri})
        return cls(ScalarWriter(logdir), uri)

    def publish(self) -> None:
        if self.writer is not None:
            self.writer.flush()
            copy_directory(self.writer.logdir, self.uri)

    def close(self) -> None:
        if self.writer is not None:
            self.publish()
            self.writer.close()


def _log_training(
    trainer: Trainer, saved: list[str], interrupt: GracefulInterrupt
) -> dict[str, Any]:
    """Log the run's counters, curves and the game's report as step metadata; the history."""
    history = trainer.history.as_dict()
    scores = history["episode_scores"]
    log_metadata(
        metadata={
            "agent_steps": trainer.agent.steps,
            "frame_number": trainer.game.frame_number,
            "gradient_updates": trainer.agent.updates,
            "target_syncs": trainer.agent.target_syncs,
            "episodes": len(scores),
            "mean_score_last_10": sum(scores[-10:]) / len(scores[-10:]) if scores else 0.0,
            "checkpoints": saved,
            "interrupted_by": interrupt.signal_name,
            **{key: values for key, values in history.items() if values},
            **trainer.game.training_metadata(),  # Connect Four: the self-play league
        }
    )
    return history
