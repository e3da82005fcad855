"""The synthetic city generator: a made-up Ezhou with labelled defects, as department extracts (issue 3)."""

from liangshi.synth.generate import CitySummary, DefectRates, write_city

__all__ = ["CitySummary", "DefectRates", "write_city"]
