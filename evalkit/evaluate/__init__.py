"""The evaluation: panel aggregation and the rater bootstrap, per-province weights, scoring,
the list procedure and the recommended list, overlaps, credit and early warning, the published
invariants, and the national pipeline that computes every province once.  Imports the base,
mcda, data and rubric layers."""
