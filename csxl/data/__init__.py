"""The data edge: files founders already have (billing exports, product events, CRM, help desk, surveys) read into
csxl's tables, with DuckDB as the embedded engine. The rules that turn them into figures live in the pure core
(:mod:`csxl.billing`); this package knows file formats, column names and how to report a bad cell by file and line.
"""
