"""Machinery every two-player game shares: the wrapper of a PettingZoo classic board game
from the agent's seat (:mod:`envs.two_player.game`: masking, seats, the league, checked
pickling), opponents as callables, a self-play league of frozen learner snapshots, the
evaluation protocol (matchups by opponent and seat, a round robin, Elo ratings).

A two-player game's package (``envs.connect_four``, ``envs.tictactoe``) supplies what is its
own (its PettingZoo module, board size and seats, its named opponents, colours, defaults);
nothing here knows a game.
"""
