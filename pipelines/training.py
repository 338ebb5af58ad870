"""The DQN training pipeline: wiring only."""

from zenml import pipeline

from config import RunConfig
from steps import (
    agent,
    build_dqn,
    evaluate,
    game_wrap,
    get_information_meta,
    replay_buffer,
    train,
)


@pipeline(name="dqn_training")
def train_pipeline(config: RunConfig) -> None:
    """game_wrap -> build_dqn -> replay_buffer -> agent -> get_information_meta -> train ->
    evaluate."""
    game_wrapper = game_wrap(config)
    q_network = build_dqn(config, game_wrapper)
    buffer = replay_buffer(config, game_wrapper)
    dqn_agent = agent(config, game_wrapper, q_network)
    information = get_information_meta(config, game_wrapper, dqn_agent, buffer)
    trained_agent, _ = train(config, game_wrapper, dqn_agent, buffer, information)
    evaluate(config, trained_agent)
