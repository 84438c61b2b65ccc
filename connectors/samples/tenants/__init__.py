"""Tenants written from the vendors' public material, independently of our connectors.

`connectors/samples/itsm365_fake.py` and `infraon_fake.py` were written together with
the connectors and share their assumptions. The tenants here were written from
`shared/reference/sources.md` and the public code it cites only: where the vendor
documents a behaviour they follow it, where nothing is documented they make their own
realistic choice (each one says which), and they import nothing from `connectors.itsm365`
or `connectors.infraon`. A test keeps it that way.
"""
