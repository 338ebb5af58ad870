"""Step: export the trained agent's Q-network as ONNX and as a TensorFlow SavedModel."""

from __future__ import annotations

from typing import Annotated

from zenml import get_step_context, step
from zenml.exceptions import StepContextError

from agents.dqn import DQNAgent
from agents.export import export_onnx, export_saved_model, model_card
from agents.exported import ModelCard, OnnxModel, SavedModel
from config import RunConfig
from envs.base import GameWrapper
from materializers.exported import OnnxModelMaterializer, SavedModelMaterializer


@step(
    enable_cache=False,
    output_materializers={
        "onnx_model": OnnxModelMaterializer,
        "saved_model": SavedModelMaterializer,
    },
)
def export(
    config: RunConfig, game_wrapper: GameWrapper, trained_agent: DQNAgent
) -> tuple[Annotated[OnnxModel, "onnx_model"], Annotated[SavedModel, "saved_model"]]:
    """Write the trained Q-network (the weights ``train`` output: the kept best ones) as ONNX
    and as a SavedModel, each with its model card: the game, the env settings, the input
    spec, the action meanings and the preprocessing. ``python export_model.py`` copies them
    out of the store; ``play.py`` and ``app.py --model`` run the ONNX file without ZenML."""
    card = _card(config, game_wrapper, trained_agent)
    onnx_model = export_onnx(trained_agent, card)
    saved_model = export_saved_model(trained_agent, card)
    return onnx_model, saved_model  # a tuple literal: ZenML reads the outputs from it


def _card(config: RunConfig, game_wrapper: GameWrapper, trained_agent: DQNAgent) -> ModelCard:
    context = get_step_context()
    source = {"run": context.pipeline_run.name}
    try:
        model = context.model
    except StepContextError:  # a pipeline run without a model (not the CLI's)
        pass
    else:
        source["model"] = f"{model.name} version {model.number}"
    return model_card(
        trained_agent,
        config.game,
        config.env.model_dump(mode="json"),
        list(game_wrapper.action_meanings),
        type(game_wrapper),
        source,
    )
