"""Multiscale: hand atomistic results to continuum models (scikit-fem) and embed a high-level
region in a low-level environment (ONIOM-style QM/MM)."""
