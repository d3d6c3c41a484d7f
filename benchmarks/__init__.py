"""Benchmarks of the matcher, the CLI and the Discord adapter: `python -m benchmarks`."""
