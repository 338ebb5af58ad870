"""Materializers for the pipeline's artifacts: game wrapper, agent, replay buffer, checkpoint."""

from __future__ import annotations

from typing import Any, ClassVar

from zenml.enums import ArtifactType
from zenml.metadata.metadata_types import MetadataType

from agents.checkpoint import TrainingCheckpoint
from agents.dqn import DQNAgent
from agents.replay import ReplayBuffer
from envs.base import GameWrapper
from materializers.safe_pickle import SafePickleMaterializer


class GameWrapperMaterializer(SafePickleMaterializer):
    """A game wrapper with its emulator state (never the emulator itself)."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (GameWrapper,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def extract_metadata(self, data: GameWrapper) -> dict[str, MetadataType]:
        config = getattr(data, "config", None)
        return {
            "game_kind": str(getattr(config, "kind", type(data).__name__)),
            "rom": str(getattr(config, "rom", "") or ""),
            "num_actions": data.num_actions,
            "observation_shape": str(tuple(data.observation_space.shape or ())),
            "episode_steps": data.episode_steps,
        }


class AgentMaterializer(SafePickleMaterializer):
    """A DQN agent: weights, optimizer state, counters, RNG state."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (DQNAgent,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def extract_metadata(self, data: DQNAgent) -> dict[str, MetadataType]:
        return {
            "agent_steps": data.steps,
            "gradient_updates": data.updates,
            "target_syncs": data.target_syncs,
            "parameters": int(data.online.count_params()),
            "double_dqn": data.config.double_dqn,
            "dueling": data.config.dueling,
        }


class ReplayBufferMaterializer(SafePickleMaterializer):
    """A replay buffer; only its filled slots are stored."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (ReplayBuffer,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def extract_metadata(self, data: ReplayBuffer) -> dict[str, MetadataType]:
        return {
            "capacity": data.capacity,
            "transitions_stored": len(data),
            "transitions_added": data.added,
            "preallocated_mib": round(data.nbytes / 2**20, 1),
        }


class CheckpointMaterializer(SafePickleMaterializer):
    """A training checkpoint: game, agent, replay buffer, curves and global RNG states."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (TrainingCheckpoint,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def extract_metadata(self, data: TrainingCheckpoint) -> dict[str, MetadataType]:
        return dict(data.summary())
