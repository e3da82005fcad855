"""Data exchange: bulk import of department files (CSV, XLSX) under the registry's rules."""
