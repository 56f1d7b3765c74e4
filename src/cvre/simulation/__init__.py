"""CRM world simulator: a realistic export plus the ground truth that generated it."""
