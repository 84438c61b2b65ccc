"""The vendored Intercom OpenAPI description and a validator built from it."""
