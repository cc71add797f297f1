"""Running other programs: the one process runner (timeouts, process groups) and the test command."""
