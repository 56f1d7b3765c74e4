"""Feature pipelines: point-in-time deal, client and campaign features from canonical tables."""
