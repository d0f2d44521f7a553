"""The ground floor: teams and tokens, audit, live events, limits, observability and the small
helpers every app shares (time parsing, JSON bodies, CSV, reports). It imports no product app."""
