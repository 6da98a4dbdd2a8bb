terraform import deputy_stack.network prod-network
