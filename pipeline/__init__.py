"""Co-production forms pipeline: ingest -> archive -> read -> forms -> schemas -> warehouse -> reports."""
