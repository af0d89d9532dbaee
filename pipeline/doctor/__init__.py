"""Checks of a deployment, each saying plainly what to fix."""
