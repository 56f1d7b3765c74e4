"""Leakage drivers (`cvre explain`): TreeSHAP attribution of each deal's shortfall to behaviours, in euros."""
