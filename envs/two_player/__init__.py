"""Machinery every two-player game shares: opponents as callables, a self-play league of
frozen learner snapshots, matchups by opponent and seat, and Elo ratings.

A two-player game's package (``envs.connect_four``) supplies what is its own (the rules, the
board view, its named opponents, how one game is played); nothing here knows a game.
"""
