"""Checkpoints as ZenML artifacts: save, keep the newest few, find the one to resume.

Used by the ``train`` and ``get_information_meta`` steps and by the CLI's pre-flight check; no
``@step`` lives here. Every checkpoint of a game is a version of one artifact,
``<game>_checkpoint`` (e.g. ``breakout_checkpoint``), with the run name, agent step and frame
number in its metadata. Pruning deletes an old version's data from the artifact store and tags
the version ``pruned`` (ZenML keeps the record of an artifact a run produced).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from zenml.client import Client
from zenml.logger import get_logger

from envs.registry import game_slug
from materializers.safe_pickle import CorruptArtifactError, verify_artifact

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse, PipelineRunResponse

    from agents.checkpoint import TrainingCheckpoint
    from config import RunConfig

logger = get_logger(__name__)

PRUNED_TAG = "pruned"
"""Tag of checkpoint versions whose data was deleted by retention."""
CHECKPOINT_TAG = "checkpoint"

REPLAY_KEYS_TO_MATCH = ("prioritized", "priority_exponent", "priority_epsilon")
"""The replay settings a checkpoint's buffer was made with and a resumed run must share (the
env and dqn settings must all match)."""


class ResumeError(ValueError):
    """The requested resume point does not exist, is damaged or does not fit the run."""


def checkpoint_artifact_name(game: str) -> str:
    """The artifact whose versions are the game's checkpoints."""
    return f"{game_slug(game)}_checkpoint"


def save_checkpoint(checkpoint: TrainingCheckpoint, run_name: str) -> ArtifactVersionResponse:
    """Store a checkpoint as a new version of the game's checkpoint artifact.

    The payload is written first and its checksum record last; ZenML registers the version
    only after both, so an interrupted save leaves no version behind.
    """
    from zenml import save_artifact

    from materializers.artifacts import CheckpointMaterializer

    game = str(checkpoint.config["game"])
    return save_artifact(
        checkpoint,
        name=checkpoint_artifact_name(game),
        materializer=CheckpointMaterializer,
        tags=[CHECKPOINT_TAG, game_slug(game)],
        user_metadata={
            "run": run_name,
            **checkpoint.summary(),
            # what must match for a run to continue this checkpoint
            "env_config": checkpoint.config["env"],
            "dqn_config": checkpoint.config["dqn"],
            "replay_config": {
                key: checkpoint.config["replay"][key] for key in REPLAY_KEYS_TO_MATCH
            },
        },
    )


def _versions(game: str, run_name: str | None = None) -> list[ArtifactVersionResponse]:
    """The game's checkpoint versions (only run ``run_name``'s when given), newest first,
    pruned ones included."""
    client = Client()
    name = checkpoint_artifact_name(game)
    try:
        client.get_artifact(name)
    except KeyError:
        return []
    # the store filters by the run when it can ("key:value"; a name with a colon is rare)
    by_run = [f"run:equals:{run_name}"] if run_name and ":" not in run_name else None
    versions = client.list_artifact_versions(
        artifact=name, sort_by="desc:created", size=1000, hydrate=True, run_metadata=by_run
    ).items
    if run_name is not None:
        versions = [v for v in versions if v.run_metadata.get("run") == run_name]
    return list(versions)


def _is_pruned(version: ArtifactVersionResponse) -> bool:
    return any(tag.name == PRUNED_TAG for tag in version.tags)


def _label(version: ArtifactVersionResponse) -> str:
    meta = version.run_metadata
    return (
        f"{version.artifact.name} version {version.version} "
        f"(run {meta.get('run', '?')}, agent step {meta.get('agent_step', '?')})"
    )


def _resume_points_in_use(current_run: str) -> set[str]:
    """Artifact version ids that unfinished runs other than ``current_run`` chose to resume
    from (``get_information_meta`` records the choice; ``train`` loads it later)."""
    client = Client()
    in_use: set[str] = set()
    for status in UNFINISHED:
        runs = client.list_pipeline_runs(status=status, size=1000, hydrate=True).items
        for run in runs:
            if run.name == current_run:
                continue
            step = run.steps.get("get_information_meta")
            resume = step.run_metadata.get("resume") if step is not None else None
            if isinstance(resume, dict) and resume.get("artifact_version_id"):
                in_use.add(str(resume["artifact_version_id"]))
    return in_use


def prune_checkpoints(game: str, keep: int, run_name: str) -> list[str]:
    """Delete the data of all but the newest ``keep`` checkpoints of run ``run_name``.

    Retention is per run: runs of the same game side by side never delete each other's
    checkpoints, and a checkpoint that another unfinished run chose to resume from is kept
    while that run is unfinished (a later save of this run prunes it). Data that is already
    gone is not an error: the version is tagged ``pruned`` all the same.

    Returns:
        Labels of the checkpoints whose data was deleted.
    """
    client = Client()
    old = [v for v in _versions(game, run_name) if not _is_pruned(v)][keep:]
    if not old:
        return []
    in_use = _resume_points_in_use(run_name)
    store = client.active_stack.artifact_store
    pruned = []
    for version in old:
        if str(version.id) in in_use:
            logger.info("keeping checkpoint %s: an unfinished run resumes from it", _label(version))
            continue
        if store.exists(version.uri):
            try:
                client.delete_artifact_version(
                    version.id, delete_metadata=False, delete_from_artifact_store=True
                )
            except OSError as exc:  # deleted meanwhile (a store that was reset, a user)
                if store.exists(version.uri):
                    raise
                logger.info("checkpoint %s was already deleted: %s", _label(version), exc)
        client.update_artifact_version(version.id, add_tags=[PRUNED_TAG])
        pruned.append(_label(version))
    return pruned


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run starts.

    Attributes:
        kind: ``checkpoint`` (agent, buffer, game and curves) or ``agent`` (a finished run's
            trained agent, whose checkpoints were pruned: the buffer starts empty).
        artifact_version_id: The artifact version to load.
        label: Human-readable name for messages.
        run: The run that wrote it.
        agent_step: The agent step it was taken at.
        frame_number: Emulator frames played at that point (0 for ``agent``).
        settings: The env, dqn and replay-sampling settings it was trained with
            (checkpoints only).
    """

    kind: str
    artifact_version_id: str
    label: str
    run: str
    agent_step: int
    frame_number: int
    settings: dict[str, Any] | None = None

    def mismatches(self, config: RunConfig) -> list[str]:
        """``section.key=checkpoint value (run has value)`` for every differing setting."""
        if not self.settings:
            return []
        current = config.model_dump()
        found = []
        for section, values in self.settings.items():
            for key, value in values.items():
                mine = current[section].get(key)
                if mine != value:
                    found.append(f"{section}.{key}={value!r} (this run has {mine!r})")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "artifact_version_id": self.artifact_version_id,
            "label": self.label,
            "run": self.run,
            "agent_step": self.agent_step,
            "frame_number": self.frame_number,
        }


def _as_int(value: Any) -> int:
    return int(value) if isinstance(value, int | float | str) else 0


def _checked(version: ArtifactVersionResponse) -> ResumePoint:
    """Verify a checkpoint's checksum (without unpickling it) and describe it."""
    store = Client().active_stack.artifact_store
    verify_artifact(store, version.uri)
    meta = version.run_metadata
    return ResumePoint(
        kind="checkpoint",
        artifact_version_id=str(version.id),
        label=_label(version),
        run=str(meta.get("run", "")),
        agent_step=_as_int(meta.get("agent_step")),
        frame_number=_as_int(meta.get("frame_number")),
        settings={
            "env": meta.get("env_config", {}),
            "dqn": meta.get("dqn_config", {}),
            "replay": meta.get("replay_config", {}),  # absent before prioritized replay
        },
    )


def _newest_intact(versions: Iterable[ArtifactVersionResponse]) -> ResumePoint | None:
    """The first of ``versions`` (newest first) that passes its checksum, warning about each
    damaged one it skips; ``None`` when none does."""
    for version in versions:
        try:
            return _checked(version)
        except CorruptArtifactError as exc:
            logger.warning("skipping damaged checkpoint %s: %s", _label(version), exc)
            print(f"warning: skipping damaged checkpoint {_label(version)}: {exc}")
    return None


def find_resume_point(game: str, resume: str) -> ResumePoint:
    """Resolve ``--resume latest`` or ``--resume <run name>``.

    ``latest`` takes the game's newest checkpoint that passes its checksum, warning about each
    damaged one it skips. A run name takes that run's newest checkpoint and fails if it is
    damaged; when retention has deleted the run's checkpoints, its final trained agent is used.

    Raises:
        ResumeError: Nothing to resume, or the named checkpoint is damaged.
    """
    versions = [v for v in _versions(game) if not _is_pruned(v)]
    if resume == "latest":
        point = _newest_intact(versions)
        if point is not None:
            return point
        raise ResumeError(
            f"--resume latest: no intact checkpoint of game {game!r} was found; start a run "
            f"without --resume (checkpoints are written every train.checkpoint_every steps)"
        )
    client = Client()
    try:
        run = client.get_pipeline_run(resume)
    except KeyError:
        raise ResumeError(
            f"--resume {resume!r}: no pipeline run of that name; pass 'latest' or a run name "
            "from `zenml pipeline runs list`"
        ) from None
    own = [v for v in versions if v.run_metadata.get("run") == run.name]
    if own:
        try:
            return _checked(own[0])
        except CorruptArtifactError as exc:
            raise ResumeError(
                f"--resume {resume!r}: its newest checkpoint {_label(own[0])} is damaged "
                f"({exc}); resume another run or use --resume latest"
            ) from None
    return _trained_agent_point(run, game, f"--resume {resume!r}")


def _trained_agent_point(run: PipelineRunResponse, game: str, request: str) -> ResumePoint:
    """A finished run's trained agent as a resume point (its checkpoints were pruned).

    Raises:
        ResumeError: The run has no trained agent, or it fails its checksum.
    """
    step = run.steps.get("train")
    outputs = step.outputs.get("trained_agent") if step is not None else None
    if not outputs:
        raise ResumeError(
            f"{request}: that run has no retained checkpoint and no trained agent "
            f"(is it a {game!r} training run that got past its first checkpoint?)"
        )
    agent_version = outputs[0]
    try:
        verify_artifact(Client().active_stack.artifact_store, agent_version.uri)
    except CorruptArtifactError as exc:
        raise ResumeError(f"{request}: its trained agent is damaged ({exc})") from None
    steps = agent_version.run_metadata.get("agent_steps", 0)
    return ResumePoint(
        kind="agent",
        artifact_version_id=str(agent_version.id),
        label=f"trained agent of run {run.name}",
        run=run.name,
        agent_step=_as_int(steps),
        frame_number=0,
    )


UNFINISHED = ("initializing", "provisioning", "running")
"""Run states of a run that has not ended (yet, or ever: its worker may have died)."""


def fail_orphaned_runs(schedule_id: UUID, current_run_id: UUID) -> list[str]:
    """Mark the schedule's earlier runs that never ended as failed.

    A schedule runs one tick at a time (the orchestrator's ``max_active_runs`` is 1), so when
    a tick starts, an earlier run of the same schedule still marked running lost its worker
    (the container was killed, the node went away) and will never report: it is failed here,
    with the reason, so the dashboard shows what happened.

    Returns:
        The names of the runs marked failed.
    """
    from zenml.enums import ExecutionStatus
    from zenml.models import PipelineRunUpdate

    client = Client()
    runs = client.list_pipeline_runs(schedule_id=schedule_id, size=1000)
    failed = []
    for run in runs.items:
        if run.id == current_run_id or run.status.value not in UNFINISHED:
            continue
        client.zen_store.update_run(
            run.id,
            PipelineRunUpdate(
                status=ExecutionStatus.FAILED,
                status_reason="its worker stopped without reporting; found by a later tick of "
                "the same schedule",
            ),
        )
        failed.append(run.name)
    return failed


def schedule_resume_point(
    config: RunConfig, schedule_id: UUID, current_run_id: UUID
) -> ResumePoint | None:
    """Where a scheduled run continues: the newest intact checkpoint of the schedule's
    earlier runs (a failed tick's last checkpoint included), else the newest earlier run's
    trained agent; ``None`` for the schedule's first run.

    Raises:
        ResumeError: The point found was trained with different env or dqn settings.
    """
    client = Client()
    runs = client.list_pipeline_runs(
        schedule_id=schedule_id, sort_by="desc:created", size=1000
    ).items
    earlier = [run for run in runs if run.id != current_run_id]
    names = {run.name for run in earlier}
    point = _newest_intact(
        v
        for v in _versions(config.game)
        if not _is_pruned(v) and v.run_metadata.get("run") in names
    )
    if point is None:
        for run in earlier:
            try:
                point = _trained_agent_point(run, config.game, f"schedule run {run.name}")
                break
            except ResumeError:
                continue
    if point is not None and (mismatches := point.mismatches(config)):
        raise ResumeError(
            f"{point.label} was trained with different settings: "
            f"{'; '.join(mismatches)}; a schedule continues its own runs"
        )
    return point


def resume_point_for(config: RunConfig) -> ResumePoint:
    """The resume point of ``config.resume``, checked against the run: same env and dqn
    settings, and a ``train.steps`` total beyond the point's agent step.

    Raises:
        ResumeError: One line saying what does not fit and what to do.
    """
    assert config.resume is not None
    point = find_resume_point(config.game, config.resume)
    mismatches = point.mismatches(config)
    if mismatches:
        raise ResumeError(
            f"{point.label} was trained with different settings: {'; '.join(mismatches)}; "
            "resume with the config (and flags) the run was started with"
        )
    if config.train.steps <= point.agent_step:
        raise ResumeError(
            f"--steps={config.train.steps} is not beyond {point.label}'s agent step "
            f"{point.agent_step:,}; --steps is the total to reach when resuming, pass a larger one"
        )
    return point


def load_artifact_version(artifact_version_id: str) -> Any:
    """Load (checksum-verified, through the safe unpickler) an artifact version by id."""
    return Client().get_artifact_version(UUID(artifact_version_id)).load()
