"""Seed 001's CRM x back-office cross-analysis: one table and page per question (`cvre analyse recruitment`)."""
