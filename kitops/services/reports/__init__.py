"""Manager reports: stock, expiring, kits, demand, cover, wastage, valuation, movements.

Each report is a read-only use case that returns one frozen ``Report`` (``model.py``):
sections of typed rows and the charts drawn from them. ``formats.py`` turns a report into
a table, CSV, JSON or one self-contained HTML page, so every format shows the same
numbers. ``registry.py`` lists the reports with their options; the command line builds
``kitops report NAME`` from it. This package's ``__init__`` stays free of SQLAlchemy so
the command line can read the registry without loading the ORM.
"""
