"""``kitops serve``: the clinic manager's door (server-rendered pages) and the integrator's
door (``/api/v1``, JSON), with the Stripe webhook, in one FastAPI application on uvicorn.

The server holds the database credentials; people prove who they are with their kitops
user name and PIN or password (a session cookie), integrations with an API token. Every
request acts through the services as that user, so roles, clinic scoping and the audit
log are the same as on the command line and in the terminal UI.
"""
