"""The DQN pipelines: wiring only."""

from typing import Any

from zenml import pipeline
from zenml.config.schedule import Schedule
from zenml.enums import ExecutionMode

from config import RunConfig
from pipelines.guard import record_run_owner
from steps import (
    agent,
    build_dqn,
    evaluate,
    export,
    game_wrap,
    get_information_meta,
    load_agent,
    promote_model,
    replay_buffer,
    seed_report,
    train,
)
from steps.registry import game_model


# fail fast where the orchestrator can (see execution_mode): when training stops (an
# interrupt, an error) the step's own exception reaches the caller, and evaluation is skipped
# rather than run on a half-trained agent. Every step records the process running it, so that
# a run whose process was killed can be failed later (pipelines.guard).
@pipeline(name="dqn_training", execution_mode=ExecutionMode.FAIL_FAST, on_start=record_run_owner)
def train_pipeline(config: RunConfig, promote: bool = True) -> None:
    """game_wrap -> build_dqn -> replay_buffer -> agent -> get_information_meta -> train ->
    evaluate -> promote_model (not for a sweep's trials, ``promote=False``: the sweep
    promotes its best trial's agent once it is over); and export (ONNX and SavedModel) after
    train, unless ``config.export`` is off."""
    game_wrapper = game_wrap(config)
    q_network = build_dqn(config, game_wrapper)
    buffer = replay_buffer(config, game_wrapper)
    dqn_agent = agent(config, game_wrapper, q_network)
    information = get_information_meta(config, game_wrapper, dqn_agent, buffer)
    trained_agent, history = train(config, game_wrapper, dqn_agent, buffer, information)
    evaluation, *_ = evaluate(config, trained_agent, history)
    if promote:
        promote_model(config, trained_agent, evaluation)
    if config.export:
        export(config, game_wrapper, trained_agent)


@pipeline(name="dqn_evaluation", execution_mode=ExecutionMode.FAIL_FAST, on_start=record_run_owner)
def evaluation_pipeline(config: RunConfig, source: str = "production") -> None:
    """load_agent -> evaluate: the production agent (or a named run's) without training."""
    trained_agent, history = load_agent(config, source)
    evaluate(config, trained_agent, history)


@pipeline(name="dqn_seed_report", on_start=record_run_owner)
def seed_report_pipeline(config: RunConfig, run_names: list[str], seeds: list[int]) -> None:
    """seed_report: the evaluations of one training run per seed, with intervals over seeds."""
    seed_report(config, run_names, seeds)


def execution_mode() -> ExecutionMode:
    """Fail fast where the active orchestrator supports it, else continue on failure (Airflow
    runs each step as a task; a failed ``train`` still never reaches ``evaluate``, whose task
    waits for its upstream tasks to succeed)."""
    from zenml.client import Client

    supported = Client().active_stack.orchestrator.supported_execution_modes
    if ExecutionMode.FAIL_FAST in supported:
        return ExecutionMode.FAIL_FAST
    return ExecutionMode.CONTINUE_ON_FAILURE


def _stack_options() -> dict[str, Any]:
    """Execution mode and settings (the worker image on a containerized stack)."""
    from stacks.runtime import pipeline_settings

    return {"execution_mode": execution_mode(), "settings": pipeline_settings()}


def training_run(
    config: RunConfig, schedule: Schedule | None = None, tags: list[str] | None = None
) -> Any:
    """``train_pipeline`` with the run's options: the game's model (a new version per run),
    run name, caching, the active stack's settings, ``tags`` (the seeds of one ``--seeds``
    command share one) and, for a scheduled run, its schedule. Call the result with
    ``config=config``."""
    options: dict[str, Any] = {
        "enable_cache": config.enable_cache,
        "model": game_model(config.game),
        **_stack_options(),
    }
    if tags:
        options["tags"] = tags
    if schedule is not None:
        from zenml.client import Client

        from pipelines.schedules import orchestrator_settings

        assert schedule.name is not None
        options["schedule"] = schedule
        options["run_name"] = f"{schedule.name}_{{date}}_{{time}}"
        settings = dict(options["settings"])
        for key, values in orchestrator_settings(
            Client().active_stack_model, schedule.name
        ).items():
            settings[key] = {**settings.get(key, {}), **values}
        options["settings"] = settings
    elif config.run_name:
        options["run_name"] = config.run_name
    return train_pipeline.with_options(**options)


def seed_report_run(run_name: str, tags: list[str]) -> Any:
    """``seed_report_pipeline`` under ``run_name`` with ``tags``, on the active stack."""
    return seed_report_pipeline.with_options(run_name=run_name, tags=tags, **_stack_options())


def evaluation_run(config: RunConfig) -> Any:
    """``evaluation_pipeline`` with the run's name, if one was given, on the active stack."""
    options: dict[str, Any] = _stack_options()
    if config.run_name:
        options["run_name"] = config.run_name
    return evaluation_pipeline.with_options(**options)
