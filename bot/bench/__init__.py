"""Benchmarks of the bot's own machinery, run against fakes on 127.0.0.1."""
