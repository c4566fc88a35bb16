"""Multi-criteria methods, arrays in and arrays out: rater agreement (``stats``), weights
(``weights``: AHP, group judgments, entropy) and ranking (``rank``: weighted sum, TOPSIS, the
tie-break chain, robustness).  Imports only the base layer (errors, registry)."""
