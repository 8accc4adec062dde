"""Orders: order status, fulfillment orders per fulfiller, returns and refunds."""
