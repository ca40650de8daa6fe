"""Pure domain: periods, catalogue, parsing, validation, ranking, pace, formatting.

Nothing in here does I/O; the import-linter contracts in pyproject.toml keep it so.
"""
