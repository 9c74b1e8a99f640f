"""Report stage: tables and figures computed from run and literature files."""
