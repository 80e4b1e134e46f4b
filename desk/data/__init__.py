"""Market-data sources: seeded synthetic markets and files replayed in record batches."""
