"""The payment adapter: the one place in kitops that knows Stripe.

The rest of kitops sees :mod:`kitops.payments.gateway` (plain values, a protocol and
errors); :mod:`kitops.payments.stripe_gateway` is the only module importing stripe. The webhook
endpoint is the web app's ``POST /stripe/webhook`` (``kitops.web.webhook``, through
``kitops.services.webhooks``), served by ``kitops serve`` and ``kitops stripe listen``.
"""
