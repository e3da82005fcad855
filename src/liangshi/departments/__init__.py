"""Department data exchange: departments and their sharing agreements, feeds in with provenance and a review queue
of conflicts, feedback on doubted values, feeds out cut to the agreement, and a hash-chained exchange log."""
