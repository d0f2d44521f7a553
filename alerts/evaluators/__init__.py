"""Rule kinds. Each evaluator turns a rule and its series into one value per series, maps a
value to a level, and replays history for backtests. Other apps add kinds with
`registry.register(...)` in their AppConfig.ready(); the alert pipeline has no special cases."""
