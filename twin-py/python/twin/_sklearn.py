"""scikit-learn estimator tags for the analytics classes, made only when scikit-learn asks.

scikit-learn stays optional: this module imports it inside :func:`tags`, which the
classes' ``__sklearn_tags__`` call, so ``import twin`` never imports scikit-learn.
"""


def tags(estimator_type, requires_y):
    """A ``sklearn.utils.Tags`` for an estimator of ``estimator_type`` (``"outlier_detector"``,
    ``"regressor"`` or ``None``), whose ``fit`` needs ``y`` if ``requires_y``."""
    from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

    return Tags(
        estimator_type=estimator_type,
        target_tags=TargetTags(required=requires_y),
        regressor_tags=RegressorTags() if estimator_type == "regressor" else None,
        input_tags=InputTags(allow_nan=False),
    )
