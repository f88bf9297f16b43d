"""The run settings a dream reads from its config."""

from core.context import DreamContext, context_from_config


def test_context_from_langserve_configurable_ignores_unknown_keys() -> None:
    context = context_from_config(
        {"configurable": {"max_concurrency": 3, "thread_id": "t", "x": 1}}
    )

    assert isinstance(context, DreamContext)
    assert context.max_concurrency == 3
