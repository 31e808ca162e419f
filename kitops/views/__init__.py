"""The read side for screens: what the stockroom screens ask for that the command line
does not -- the day's work per clinic, pages of long lists filtered and sorted in the
query, previews shown before a change is confirmed (a scanned label, an assembly's
shortfall, a course calendar) and the choices a form offers. Shared by the TUI and by
any later front end.

Every function is one unit of work, like the services, and reads only (never commits).
Services are composed inside the same transaction (a nested ``with uow`` joins the outer
one); the SQL of the lists and aggregates lives in ``kitops.data.queries``."""
