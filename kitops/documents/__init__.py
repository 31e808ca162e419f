"""Documents: DTOs to bytes. Kit labels (PDF, PNG), purchase orders (CSV, PDF), course
calendars (iCalendar) and report files (table, CSV, JSON, HTML).

Each writer takes the frozen values a service returns and renders them; the reading is
the services' (``kitops.services.labels``, ``calendars``, ``purchasing.order_to_send`` and
``purchasing.order_paper``, the report builders of ``kitops.reports``). Rendering
libraries (fpdf2, Pillow, pyStrich, icalendar, jinja2, pygal) are imported when a document
needs them.
"""
