"""The field map: what every source object and field becomes in Intercom.

The proposers (built-in, LLM) fill a `MigrationMap`; the operator confirms it; the
loader calls `apply_map` per record and `require_confirmed_map` before it starts.
"""
