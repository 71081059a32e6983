"""What the app finds, from stored runs and results: the answer, the fixes' verdicts, the
mechanism, the divergence sweep, the loss surface's requests; each judgement's threshold named
beside its rule."""
