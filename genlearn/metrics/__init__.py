"""Sample-quality metrics: Fréchet and kernel distances, and the digits metrics built on genlearn's classifier."""

from genlearn.metrics.frechet import feature_stats, frechet_distance, frechet_distance_from_stats, kernel_distance

__all__ = ["feature_stats", "frechet_distance", "frechet_distance_from_stats", "kernel_distance"]
