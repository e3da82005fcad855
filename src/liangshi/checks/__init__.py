"""Quality checks (issue 15): named, set-based rules over an area whose findings become work items."""
