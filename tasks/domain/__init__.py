"""Domain code: feed specs, chunk planning, parsing and aggregation. Knows nothing of Lambda or AWS."""
