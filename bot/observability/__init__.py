"""Operating the bot: structured logs (logs.py), OpenTelemetry metrics and traces
(telemetry.py), and readiness: the database, its schema and the dispatcher (readiness.py).

Nothing here imports a feature, the Teams layer or SQL: the kernel and the Teams layer
note what a turn is about (logs), the app wires the rest.
"""
