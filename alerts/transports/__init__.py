"""One transport class per notification kind, behind a registry (see base.REGISTRY)."""
