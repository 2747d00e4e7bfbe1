"""Clustering: discovering recurring topics, keeping their identity across runs, labels and trends."""
