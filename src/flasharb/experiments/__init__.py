"""Experiments: sweeps over forks of the replica, journaled, with a report each."""
