"""Trustworthiness measures: calibration of predicted probabilities and inference latency."""
