"""A team's deployment around the scoring API: several `cvre serve` replicas behind nginx, reloaded in turn."""
