"""Drift watch on features and predictions, performance on new labels, and the retraining trigger."""
