"""The input contract and files: identifiers, the dataset schema, reading and checking a
dataset (``problems`` < ``partition`` < ``read``, ``convert`` < ``checks``, ``attribution`` <
``dataset`` < ``partitioned``), personal-data redaction, and the deterministic export writers.
Imports only the base and mcda layers: the rubric's criterion ids are given to the loaders by
the layers above (:func:`evalkit.load_dataset`)."""
