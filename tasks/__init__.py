"""gridflow Lambda code: thin handlers over domain code, with adapters for AWS."""
