"""Master person index: source records, incremental resolution, review queue, merges and splits."""
