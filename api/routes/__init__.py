"""HTTP routes: compression, the LLM proxy, and operations (health, readiness, metrics)."""
