"""Causal recovery: each governance rule as a modified treatment policy, estimated doubly robustly."""
