"""Datasets: photo folders -> .npz (build), loading (schema), augmentation and splits."""
