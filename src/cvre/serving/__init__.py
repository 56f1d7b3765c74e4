"""Serving: the BentoML scoring API (issue: serving). Not built yet; see README status."""
