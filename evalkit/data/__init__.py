"""The input contract and files: identifiers, the dataset schema, reading and checking a
dataset, province partitions, personal-data redaction, and the deterministic export writers.
Imports only the base and mcda layers."""
