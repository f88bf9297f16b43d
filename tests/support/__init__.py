"""What tests (and `bench/`) share, none of it a test: loopback servers and small helpers.

- `openai_server`: `FakeOpenAI`, a deterministic OpenAI-compatible chat server (and `Fault`).
- `daytona_server`: `FakeDaytona`, the Daytona API the real `daytona` SDK talks to.
- `live_server`: `LiveServer`, the real FastAPI app served by uvicorn in a thread.
- `cli`: `run_cli`, `CODREAMER` and `SEED_ARGS`, to run `codreamer` as a user runs it.
- `env`: `ENV_VARS`, the caller's settings no test may inherit.
- `ports`: `free_port`, a free port on 127.0.0.1.
- `hostile_text`: `HOSTILE_TERMINAL`, text a terminal would act on, and a pattern that finds it.

The fixtures built on them are in `tests/conftest.py`. Test modules import from here, never
from each other.
"""
