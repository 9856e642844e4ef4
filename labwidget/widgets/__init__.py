"""The labeling widgets."""
