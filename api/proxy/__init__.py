"""The LLM proxy's parts: request controls, message text, rewriting, and forwarding upstream."""
