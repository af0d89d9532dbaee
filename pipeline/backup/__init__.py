"""A consistent copy of a deployment's data, and putting it back."""
