"""Capacity maths, split by concern (pure numpy, no Django): `types` (the dataclasses),
`changes` (change points, periodic resets, the daily profile), `regression` (least squares and
the design columns), `growth` (the candidate models, their weights and the bootstrap),
`exhaustion` (crossings, quantiles, how sure the range is), `sizing` (right-sizing, scenarios,
risk). `capacity.calculations` re-exports what the rest of the app uses."""
