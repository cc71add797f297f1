"""Services the core lends the loop and the agents: budget, pricing, redaction, the call recorder,
prompt templates and atomic writes."""
