"""Data protection: how long personal data is kept (retention), a person's data found and
exported (subject access), and a person erased (pipeline.privacy.retention, access, erase)."""
