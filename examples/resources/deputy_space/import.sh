terraform import deputy_space.payments payments
