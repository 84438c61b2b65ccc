"""One class per Intercom resource; each method is one operation the loader uses."""
