"""Record linkage (issue 7): normalise, block, compare, score, cluster; public API in ``api``."""
