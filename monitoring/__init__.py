"""Monitoring: Evidently drift watch and retraining trigger (issue: monitoring). Not built yet; see README status."""
