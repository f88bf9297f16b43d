"""What a running process tells about its dreams: Prometheus metrics (always counted, served at
`GET /metrics`) and OpenTelemetry traces (only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set).

It sits just above `core`: every other layer may report to it, and it imports none of them.
"""
