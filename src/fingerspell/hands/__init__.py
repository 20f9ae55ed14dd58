"""Hand detection (MediaPipe), the Hand record, landmark features and mask rendering."""

from fingerspell.hands.landmarks import FEATURE_DIM, Hand, hand_vector, normalize_landmarks

__all__ = ["FEATURE_DIM", "Hand", "hand_vector", "normalize_landmarks"]
