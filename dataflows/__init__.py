"""Bundled dataflows YAML files (package data)."""
