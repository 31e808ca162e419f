"""The read side's SQL: statements the screens' views run (filtered, sorted, paged lists
and the dashboard's aggregates), returning rows and tuples that the views turn into DTOs.
Each function receives a session; none opens, commits or writes."""
