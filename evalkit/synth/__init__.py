"""The deterministic generator of realistic datasets (``sample``, ``province``, ``national``).
Imports the base, data and rubric layers."""
