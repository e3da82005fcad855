"""Residence permits (居住证): eligibility, issue, yearly endorsement, lapse."""
