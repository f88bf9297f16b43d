"""The caller's settings a test must not inherit (besides every `CODREAMER_*` variable)."""

ENV_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "USE_DAYTONA",
    "USE_WORKFLOW",
    "KEEP_DAYTONA_WORKSPACE",
    "DAYTONA_API_KEY",
    "DAYTONA_API_URL",
    "DAYTONA_TARGET",
    "TAVILY_API_KEY",
    "TAVILY_API_URL",
)
