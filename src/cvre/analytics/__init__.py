"""Decision analytics: expected value, revenue leakage, governance scenarios and trust, in euros."""
