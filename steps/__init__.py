"""One ZenML step per file (plus the ZenML glue they share: checkpointing, registry)."""

# first: sets TensorFlow's oneDNN switch (agents.ONEDNN_SWITCH) before a step loads keras
import agents  # noqa: F401
from steps.agent import agent
from steps.build_dqn import build_dqn
from steps.evaluate import evaluate
from steps.export import export
from steps.game_wrap import game_wrap
from steps.get_information_meta import get_information_meta
from steps.load_agent import load_agent
from steps.promote_model import promote_model
from steps.replay_buffer import replay_buffer
from steps.seed_report import seed_report
from steps.sweep_report import sweep_report
from steps.train import train

__all__ = [
    "agent",
    "build_dqn",
    "evaluate",
    "export",
    "game_wrap",
    "get_information_meta",
    "load_agent",
    "promote_model",
    "replay_buffer",
    "seed_report",
    "sweep_report",
    "train",
]
