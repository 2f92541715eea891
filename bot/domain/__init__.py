"""Entities and rules of a Community MARAC: plain Python, no I/O, no frameworks."""
