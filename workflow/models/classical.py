"""Classical, non-deep baselines on raw pixels: the floor a network has to clear.

MedMNIST v2 reports auto-sklearn beside its networks for the same reason. A builder here
returns a scikit-learn estimator; a parameter given as a list in the config is a grid,
searched on the validation split by ``workflow.train.classical``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .registry import register

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


@register("logistic_regression", family="classical", spatial_dims=(2, 3), framework="sklearn")
def logistic_regression(
    spatial_dims: int, in_channels: int, out_channels: int, C: float = 1.0, max_iter: int = 1000, class_weight: str | None = None
) -> "Pipeline":
    """Standardised pixels (voxels) into an L2-regularised logistic regression (multinomial
    for multi-class tasks); ``C`` is the inverse regularisation strength, ``class_weight``
    ``balanced`` weighs classes by inverse frequency as the networks' recipe option does."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, class_weight=class_weight))
