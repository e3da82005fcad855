"""The collection campaign (入户采集): door-to-door visits of dwellings and what the collector found."""
