"""The rubric: YAML loading, the typed rubric and profile models, scoring rules and registry
checks, policy coverage.  Imports the base, mcda and data layers."""
