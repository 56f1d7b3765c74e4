"""CVRE, the CRM Value Realisation Engine: revenue leakage from CRM behaviour, in euros."""

__version__ = "0.1.0"
