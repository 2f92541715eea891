"""Adaptive Cards as pure functions: a view model in, a card dict out."""
