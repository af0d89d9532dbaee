"""The scan reader: pictures (JPEG, PNG, TIFF, HEIC, ...) and PDF pages without a text layer
-> one neutral Document, laid out as the PDF reader lays out the same printed form.

One module per job: images (decode the file's pages), page (straighten and clean a page),
grid (ruling lines and table cells), ocr (the two engines), ink (tick boxes and handwriting),
layout (cells and lines into a Document), reader (the entry points).
"""
