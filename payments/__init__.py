"""Credit packs, gateways (Stripe, Razorpay, demo) and fulfilment."""
