"""Multi-criteria methods, arrays in and arrays out.  Imports only the base layer (errors,
registry, checks).

Public faces (``from evalkit import stats, weights, rank``):

* ``stats`` — rater agreement: ICC, Kendall's W, Krippendorff's alpha, rater diagnostics;
  its kernels on long panel data in ``agreement`` and Krippendorff's alpha in ``alpha``;
* ``weights`` — entropy weights and the weight methods (``WEIGHT_METHODS``), re-exporting AHP
  and the group geometric mean (``ahp``) and the judgment rows and screening (``judgments``);
* ``rank`` — the tie-break chain, re-exporting the scores (``methods``: weighted sum, TOPSIS,
  the ``METHODS`` registry) and the robustness Monte Carlo (``robustness``).

``display`` draws the statistics' HTML tables.
"""
