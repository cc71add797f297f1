"""Version control: the one git gateway, the run worktree, diff analysis and the checkout guard."""
