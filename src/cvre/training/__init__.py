"""Training: Optuna-tuned LightGBM models for win probability, deal amount and churn, tracked in MLflow."""
