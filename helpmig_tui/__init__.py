"""helpmig: move an on-prem helpdesk into Intercom, step by step, resumably."""

__version__ = "0.1.0"
