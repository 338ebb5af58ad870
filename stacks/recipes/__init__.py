"""Recipes for ZenML stacks on real clouds (one folder per recipe, one YAML file per variant) and
``stacks.recipes.check``, which checks them as far as a machine without cloud access can."""
