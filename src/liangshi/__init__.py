"""liangshi (两实): a registry of actual population and actual housing on a standard-address database."""

__version__ = "0.1.0"
