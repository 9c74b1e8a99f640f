"""Training engine, metrics and run provenance."""
