"""One ZenML step per file."""

from steps.agent import agent
from steps.build_dqn import build_dqn
from steps.evaluate import evaluate
from steps.game_wrap import game_wrap
from steps.get_information_meta import get_information_meta
from steps.replay_buffer import replay_buffer
from steps.train import train

__all__ = [
    "agent",
    "build_dqn",
    "evaluate",
    "game_wrap",
    "get_information_meta",
    "replay_buffer",
    "train",
]
