"""The append-only, hash-chained audit log of every read of personal data and every write."""
