"""Figures, one module per topic: matplotlib for the pages of the tutorial, plotly to explore.

Every function returns its figure and, given `save_as`, saves it into `figures/` (see
`base`). Figures read decompositions and analyses; none computes one.
"""

from .backdoor import plot_scan_scores
from .base import (
    EIGEN_CMAP,
    PNG_DPI,
    figure_name,
    maybe_save,
    pixel_grid,
    plot_eigenvector_table,
    plot_image_grid,
    rank_label,
    save_figure,
    show_eigenvector,
    to_numpy,
)
from .deep_decomposition import plot_network_spectra, plot_network_truncation
from .eigenvectors import EigenvectorPlotter, plot_eigenvector_grid, plot_eigenvectors_side_by_side
from .explorer import eigenvector_explorer, plot_explorer_view
from .groups import (
    plot_block_spectra,
    plot_block_vs_character,
    plot_group_training,
    plot_irrep_fractions,
    plot_logit_similarity,
)
from .low_rank import plot_attack_curves, plot_hosvd, plot_metric_grid, plot_truncation_curves
from .modularity import (
    plot_ablated_spectra,
    plot_class_cluster_shares,
    plot_classwise_ablation,
    plot_cluster_matrices,
    plot_distinct_classes,
)
from .notebook_output import palette_png, use_palette_png
from .prediction import plot_prediction
from .robustness import plot_clean_vs_noisy
from .shared_features import plot_budget_curves, plot_fit_against_rank, plot_shared_terms, plot_term_removal
from .spectra import draw_spectrum, plot_interaction_matrix, plot_spectra
from .training import plot_training_curves
from .universality import plot_marchenko_pastur, plot_matrices, plot_weight_spectra

__all__ = [
    "EIGEN_CMAP",
    "EigenvectorPlotter",
    "PNG_DPI",
    "draw_spectrum",
    "eigenvector_explorer",
    "figure_name",
    "maybe_save",
    "pixel_grid",
    "plot_ablated_spectra",
    "plot_class_cluster_shares",
    "plot_attack_curves",
    "plot_block_spectra",
    "plot_block_vs_character",
    "plot_budget_curves",
    "plot_classwise_ablation",
    "plot_clean_vs_noisy",
    "plot_cluster_matrices",
    "plot_distinct_classes",
    "plot_eigenvector_grid",
    "plot_eigenvector_table",
    "plot_eigenvectors_side_by_side",
    "plot_explorer_view",
    "plot_fit_against_rank",
    "plot_group_training",
    "plot_hosvd",
    "plot_image_grid",
    "plot_interaction_matrix",
    "plot_irrep_fractions",
    "plot_logit_similarity",
    "plot_marchenko_pastur",
    "plot_matrices",
    "plot_metric_grid",
    "plot_network_spectra",
    "plot_network_truncation",
    "palette_png",
    "plot_prediction",
    "plot_shared_terms",
    "plot_spectra",
    "plot_term_removal",
    "plot_training_curves",
    "plot_truncation_curves",
    "plot_weight_spectra",
    "rank_label",
    "save_figure",
    "show_eigenvector",
    "to_numpy",
    "use_palette_png",
    "plot_scan_scores",
]
