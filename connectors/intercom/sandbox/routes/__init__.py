"""The sandbox's Intercom endpoints, one module per resource."""
