"""The violation engine: rules/violations.yaml turned into open/resolved violations."""
