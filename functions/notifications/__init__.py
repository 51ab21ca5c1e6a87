"""Customer notifications: an order's status told to its customer by SMS and email, from templates per
channel and language, only with the customer's consent (docs/notifications.md)."""
