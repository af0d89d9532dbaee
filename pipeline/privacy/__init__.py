"""Data protection: retention of personal data, subject access, erasure."""
