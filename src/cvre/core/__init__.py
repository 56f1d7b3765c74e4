"""Shared pieces every stage uses: typed config loading, the canonical CRM schema, table IO."""
