"""CLI commands defined beside the plumbing they share (flasharb._cli_support), attached to the
`flasharb` group by flasharb.cli."""
