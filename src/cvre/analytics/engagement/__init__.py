"""Seed 003's engagement analytics: audience, campaigns, A/B tests, support operations, Morning Coffee."""
