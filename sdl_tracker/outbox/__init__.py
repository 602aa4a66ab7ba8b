"""The notification outbox: e-mail and signed webhooks, queued in the transaction of what they tell of, sent
after it committed."""
