"""Manager reports: stock, expiring, kits, demand, cover, wastage, valuation, movements,
payments.

Each report is a read-only use case that returns one frozen ``Report``
(``kitops.services.dto.reports``): sections of typed rows and the charts drawn from them.
``kitops.documents.report_files`` turns a report into a table, CSV, JSON or one
self-contained HTML page, so every format shows the same numbers. ``registry.py`` lists
the reports with their options; the command line builds ``kitops report NAME`` from it.
This package's ``__init__`` stays free of SQLAlchemy so the command line can read the
registry without loading the ORM.
"""
