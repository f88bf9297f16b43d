"""Web-search verification (CODREAMER_VERIFY): every grown idea searched once, as soon as it is
grown, against the loopback Tavily-compatible API through Tavily's own client."""

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from langserve import RemoteRunnable

from core.context import DreamContext, InvalidRunSettingsError, validated_context
from core.settings import SettingsError, get_settings
from core.state import ANCHOR_IDS, DreamInput
from core.workspace_layout import VERIFICATION_LOG
from graph.runner import run_dream
from nodes.create_workspace import new_workspace_id
from tests.support.cli import SEED_ARGS, run_cli
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI
from tests.support.search_servers import FakeTavily

CUSTOMER = "Enterprise software companies using microservices"


async def verified_dream(children: int = 2, generations: int = 2) -> dict:
    dream_input = DreamInput(
        customer=CUSTOMER,
        product="Distributed tracing and observability platform",
        children_count=children,
        generations_count_int=generations,
    )
    return dict(await run_dream(dream_input, DreamContext(), new_workspace_id()))


def ideas(output: dict) -> list[dict]:
    return [node for node in output["nodes"] if node["id"] not in ANCHOR_IDS]


def workspace_text(output: dict) -> str:
    root = Path(output["metadata"]["workspacePath"])
    return "\n".join(
        path.read_text(errors="replace") for path in sorted(root.rglob("*")) if path.is_file()
    )


async def test_every_idea_is_searched_once_with_the_customer_and_verified(
    fake_llm: FakeOpenAI, fake_tavily: FakeTavily
) -> None:
    output = await verified_dream(children=3, generations=2)

    grown = ideas(output)
    assert len(grown) == 12
    queries = Counter(fake_tavily.stats.queries)
    assert len(queries) == 12 and set(queries.values()) == {1}
    assert all(CUSTOMER in query and len(query) <= 400 for query in queries)
    for node in grown:
        check = node["verification"]
        assert set(check) == {"verified", "confidence", "summary", "sources", "timestamp"}
        assert check["verified"] is True
        assert check["confidence"] == pytest.approx((0.92 + 0.81 + 0.55) / 3, abs=1e-3)
        assert len(check["sources"]) == 3
        assert all(url.startswith("https://source") for url in check["sources"])
        assert check["summary"].startswith("The web agrees:")
        assert node["name"] in fake_tavily.stats.queries[0] or any(
            node["name"] in query for query in queries
        )
    assert all("verification" not in output["nodes"][i] for i in (0, 1))
    metadata = output["metadata"]["verification"]
    assert metadata == {
        "verified": 12,
        "unverified": 0,
        "searches": 12,
        "failed_searches": 0,
        "credits": 12,
        "cost_usd": pytest.approx(12 * 0.008),
    }
    log = (Path(output["metadata"]["workspacePath"]) / VERIFICATION_LOG).read_text()
    lines = log.splitlines()
    assert len(lines) == 12
    assert {line.split()[2] for line in lines} == {node["id"] for node in grown}
    assert all(line.split()[1] == "VERIFIED" for line in lines)
    assert all(request["search_depth"] == "basic" for request in fake_tavily.stats.requests)
    assert set(fake_tavily.stats.authorizations) == {f"Bearer {fake_tavily.api_key}"}
    assert fake_tavily.api_key not in workspace_text(output)
    assert fake_tavily.api_key not in json.dumps(output)


async def test_an_idea_the_web_does_not_support_is_unverified(
    fake_llm: FakeOpenAI, fake_tavily: FakeTavily
) -> None:
    fake_tavily.no_results_for = {"0"}  # the loopback LLM's first child of every parent

    output = await verified_dream()

    unverified = [n for n in ideas(output) if not n["verification"]["verified"]]
    assert len(unverified) == 3
    for node in unverified:
        assert node["verification"]["sources"] == []
        assert node["verification"]["confidence"] == 0.0
        assert "No web page" in node["verification"]["summary"]
    assert output["metadata"]["verification"]["verified"] == 3
    assert output["metadata"]["verification"]["unverified"] == 3
    log = (Path(output["metadata"]["workspacePath"]) / VERIFICATION_LOG).read_text()
    assert Counter(line.split()[1] for line in log.splitlines()) == {
        "VERIFIED": 3,
        "UNVERIFIED": 3,
    }


async def test_a_failing_search_leaves_the_idea_unverified_and_the_dream_whole(
    fake_llm: FakeOpenAI, fake_tavily: FakeTavily
) -> None:
    fake_tavily.failing_for = {"1"}  # the second child of every parent: HTTP 500, always

    output = await verified_dream()

    assert len(output["nodes"]) == 8
    failed = [n for n in ideas(output) if "failed" in n["verification"]["summary"]]
    assert len(failed) == 3
    for node in failed:
        assert node["verification"]["verified"] is False
        assert "HTTP 500" in node["verification"]["summary"]
        assert "3 attempts" in node["verification"]["summary"]
    assert fake_tavily.stats.statuses[500] == 9  # 3 ideas x 3 attempts
    summary = output["metadata"]["verification"]
    assert (summary["searches"], summary["failed_searches"], summary["verified"]) == (3, 3, 3)
    assert any("3 of 6 ideas could not be searched" in w for w in output["metadata"]["warnings"])


async def test_a_refused_key_stops_the_dreams_searches_after_the_first(
    fake_llm: FakeOpenAI, fake_tavily: FakeTavily, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-wrong-key-abcdef")
    monkeypatch.setenv("CODREAMER_VERIFY_CONCURRENCY", "1")
    get_settings.cache_clear()

    output = await verified_dream()

    assert fake_tavily.stats.statuses == {401: 1}
    checks = [node["verification"] for node in ideas(output)]
    assert not any(check["verified"] for check in checks)
    assert sum("refused the search" in c["summary"] for c in checks) == 6
    assert output["metadata"]["verification"]["failed_searches"] == 6
    assert "tvly-wrong-key-abcdef" not in workspace_text(output) + json.dumps(output)


async def test_searches_in_flight_stay_within_the_bound(
    fake_llm: FakeOpenAI, fake_tavily: FakeTavily, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_VERIFY_CONCURRENCY", "2")
    get_settings.cache_clear()
    fake_tavily.latency = 0.1

    output = await verified_dream(children=3, generations=2)

    assert output["metadata"]["verification"]["searches"] == 12
    assert fake_tavily.stats.peak_in_flight == 2


async def test_a_dream_that_does_not_verify_makes_no_search(
    fake_llm: FakeOpenAI, fake_tavily: FakeTavily
) -> None:
    dream_input = DreamInput(customer=CUSTOMER, product="Tracing", generations_count_int=1)
    output = await run_dream(dream_input, DreamContext(verify=False), new_workspace_id())

    assert fake_tavily.stats.queries == []
    assert "verification" not in output["metadata"]
    assert all("verification" not in node for node in output["nodes"])


def test_verification_without_a_key_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODREAMER_VERIFY", "true")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="CODREAMER_VERIFY=true needs TAVILY_API_KEY"):
        get_settings()
    monkeypatch.delenv("CODREAMER_VERIFY")
    get_settings.cache_clear()
    with pytest.raises(InvalidRunSettingsError, match=r"verify: .*TAVILY_API_KEY") as error:
        validated_context({"verify": True})
    assert error.value.field == "verify"


def test_cli_verify_flag_needs_a_key_and_reports_the_searches(
    fake_llm: FakeOpenAI, fake_tavily: FakeTavily, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODREAMER_VERIFY")
    monkeypatch.delenv("TAVILY_API_KEY")
    refused = run_cli("dream", *SEED_ARGS, "--generations", "1", "--verify")
    assert refused.returncode == 2
    assert refused.stderr.count("error:") == 1 and "--verify" in refused.stderr
    assert "TAVILY_API_KEY" in refused.stderr and "Traceback" not in refused.stderr

    monkeypatch.setenv("TAVILY_API_KEY", fake_tavily.api_key)
    done = run_cli("dream", *SEED_ARGS, "--generations", "1", "--verify", "--json")
    assert done.returncode == 0, done.stderr
    assert "2 of 2 ideas by web search (2 searches, $0.016)" in done.stderr
    assert json.loads(done.stdout)["metadata"]["verification"]["verified"] == 2


async def test_langserve_runs_verify_as_a_run_setting_and_refuses_it_without_a_key(
    fake_llm: FakeOpenAI,
    fake_tavily: FakeTavily,
    live_server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CODREAMER_VERIFY")
    get_settings.cache_clear()
    body = {"customer": CUSTOMER, "product": "Tracing", "generations_count_int": 1}
    remote = RemoteRunnable(f"{live_server.url}/dream/")

    output = await remote.ainvoke(body, config={"configurable": {"verify": True}})

    assert output["metadata"]["verification"]["verified"] == 2
    assert len(fake_tavily.stats.queries) == 2

    monkeypatch.delenv("TAVILY_API_KEY")
    get_settings.cache_clear()
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        refused = await client.post(
            "/dream/invoke", json={"input": body, "config": {"configurable": {"verify": True}}}
        )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "verify"
    assert len(fake_tavily.stats.queries) == 2
