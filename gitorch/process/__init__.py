"""Running other programs: the one process runner (:mod:`.runner`), where an argv becomes the process
started (:mod:`.launch`, the place a sandbox plugs in) and the project's test command (:mod:`.testrun`)."""
