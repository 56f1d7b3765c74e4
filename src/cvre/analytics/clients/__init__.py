"""Client analytics (seeds 001 and 002): KPI board, RFM segments, trends, categories, CLV, target lists."""
