"""The payment adapter: the one place in kitops that knows Stripe.

The rest of kitops sees :mod:`kitops.payments.gateway` (plain values, a protocol and
errors); :mod:`kitops.payments.stripe_gateway` is the only module importing stripe, and
:mod:`kitops.payments.listener` is the webhook endpoint of ``kitops stripe listen``.
"""
