"""Sample-quality metrics: Fréchet and kernel distances, the digits metrics built on genlearn's classifier
(:mod:`genlearn.metrics.digits`) and the translation scores of chapter 7 (:mod:`genlearn.metrics.translation`)."""

from genlearn.metrics.frechet import bias_curve, fd_infinity, feature_stats, frechet_distance, frechet_distance_from_stats, kernel_distance

__all__ = ["bias_curve", "fd_infinity", "feature_stats", "frechet_distance", "frechet_distance_from_stats", "kernel_distance"]
