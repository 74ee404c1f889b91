"""Bundled arch configs YAML files (package data)."""
