"""A/B price experiments over HTTP: the draft -> running -> stopped lifecycle, what shoppers
see while one runs, and the results computed from recorded exposures and conversions.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import math
import statistics
from statistics import NormalDist
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.catalog.model import Product
from bazaar.kernel.clock import SystemClock
from bazaar.kernel.money import Money
from bazaar.pricing import experiment_store, store
from bazaar.pricing.experiment_stats import (
    student_t_critical,
    student_t_two_sided_p,
    wilson_interval,
)
from bazaar.pricing.experiments import assign_variant
from tests.support.assertions import assert_problem
from tests.support.factories import Account, make_product

EXPERIMENTS = "/api/v1/experiments"


def fields(problem: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in problem.get("errors", [])]


@pytest.fixture
def tee(container: Container, operator: Account) -> Product:
    return make_product(container, operator, price=Money(2000, "EUR"))


def experiment_json(product_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": "Tee price test",
        "variants": [{"id": "control"}, {"id": "lower", "price_change_percent": "-5"}],
        "product_ids": [product_id],
    } | fields


def create(client: TestClient, operator: Account, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(EXPERIMENTS, json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    experiment: dict[str, Any] = response.json()
    return experiment


def test_an_experiment_runs_from_start_to_stop_and_changes_prices_meanwhile(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    # Given a draft experiment: control versus 5 % lower on one product
    experiment = create(client, operator, experiment_json(tee.id))
    path = f"{EXPERIMENTS}/{experiment['id']}"
    assert (experiment["status"], experiment["active"], experiment["started_at"]) == (
        "draft",
        False,
        None,
    )
    assert experiment["variants"][1]["price_change_percent"] == "-5"
    assert container.pricing_rules.get().experiments == ()
    offer_id = container.catalog.product_view(tee.id, staff=True).offers[0].id

    # When it starts
    started = client.post(f"{path}/start", headers=operator.headers)

    # Then it is running and compiled into the rules; starting again is a conflict
    assert started.status_code == 200, started.text
    assert (started.json()["status"], started.json()["active"]) == ("running", True)
    assert started.json()["started_at"] is not None
    [compiled] = container.pricing_rules.get().experiments
    assert_problem(client.post(f"{path}/start", headers=operator.headers), 409)

    # And a shopper assigned to the lower variant sees 5 % off, exposed to the experiment
    unit = next(
        f"usr_{n}" for n in range(1000) if assign_variant(compiled, f"usr_{n}").id == "lower"
    )
    body = {"lines": [{"offer_id": offer_id, "quantity": 1}], "customer_id": unit}
    seen = client.post("/api/v1/pricing/simulate", json=body, headers=operator.headers).json()
    assert seen["lines"][0]["unit_price"] == {"amount": 1900, "currency": "EUR"}
    assert seen["lines"][0]["source"] == "experiment"
    assert seen["exposures"] == [{"experiment_id": experiment["id"], "variant_id": "lower"}]

    # When it stops, then everyone sees the control price again and it cannot stop twice
    stopped = client.post(f"{path}/stop", headers=operator.headers)
    assert (stopped.json()["status"], stopped.json()["active"]) == ("stopped", False)
    assert container.pricing_rules.get().experiments == ()
    seen = client.post("/api/v1/pricing/simulate", json=body, headers=operator.headers).json()
    assert seen["lines"][0]["unit_price"] == {"amount": 2000, "currency": "EUR"}
    assert_problem(client.post(f"{path}/stop", headers=operator.headers), 409)
    assert_problem(client.post(f"{path}/start", headers=operator.headers), 409)
    assert client.get(path, headers=operator.headers).json()["status"] == "stopped"
    assert [e["id"] for e in client.get(EXPERIMENTS, headers=operator.headers).json()["items"]] == [
        experiment["id"]
    ]
    events = client.get(
        "/api/v1/admin/events", params={"subject_id": experiment["id"]}, headers=operator.headers
    ).json()["items"]
    assert [e["type"] for e in events] == [
        "ExperimentStopped",
        "ExperimentStarted",
        "ExperimentCreated",
    ]
    assert_problem(client.post(f"{EXPERIMENTS}/exp_nothing/start", headers=operator.headers), 404)


def test_a_bad_experiment_is_a_problem_naming_each_field(
    client: TestClient, operator: Account, tee: Product
) -> None:
    body = experiment_json(
        "prd_01jbzq3k8x4m2n5p7r9t1v3w5y",
        variants=[
            {"id": "control", "weight": -1},
            {"id": "control", "price_change_percent": -100, "promotions_off": ["prm_nothing"]},
        ],
        starts_at="2027-01-02T00:00:00Z",
        ends_at="2027-01-01T00:00:00Z",
    )

    problem = assert_problem(client.post(EXPERIMENTS, json=body, headers=operator.headers), 422)

    assert fields(problem) == [
        ("variants[0].weight", "out_of_range"),
        ("variants[1].id", "duplicate"),
        ("variants[1].price_change_percent", "out_of_range"),
        ("ends_at", "before_start"),
        ("product_ids[0]", "unknown"),
        ("variants[1].promotions_off[0]", "unknown"),
    ]
    one = experiment_json(tee.id, variants=[{"id": "control"}])
    problem = assert_problem(client.post(EXPERIMENTS, json=one, headers=operator.headers), 422)
    assert fields(problem) == [("variants", "too_few")]


def test_results_count_exposed_units_their_orders_and_compare_with_the_control(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    # Given a running experiment, four units exposed to each variant
    experiment = create(client, operator, experiment_json(tee.id))
    experiment_id = experiment["id"]
    assert client.post(f"{EXPERIMENTS}/{experiment_id}/start", headers=operator.headers).is_success
    now = SystemClock().now()
    control = {"c1": [1000], "c2": [2000], "c3": [], "c4": []}
    lower = {"l1": [1500, 500], "l2": [3000], "l3": [1000], "l4": []}
    with container.db.write() as conn:
        for variant, units in (("control", control), ("lower", lower)):
            for unit, orders in units.items():
                assert experiment_store.record_exposure(conn, experiment_id, variant, unit, now)
                for n, revenue in enumerate(orders):
                    _conversion(conn, experiment_id, variant, unit, f"ord_{unit}_{n}", revenue)
        # a unit seen twice counts once; an order without an exposure, or in another
        # currency, counts for nothing
        assert not experiment_store.record_exposure(conn, experiment_id, "lower", "c1", now)
        _conversion(conn, experiment_id, "control", "ghost", "ord_ghost", 99_999)
        _conversion(conn, experiment_id, "lower", "l2", "ord_usd", 5000, "USD")

    # When the results are read
    response = client.get(f"{EXPERIMENTS}/{experiment_id}/results", headers=operator.headers)

    # Then every figure follows from those rows
    assert response.status_code == 200, response.text
    results = response.json()
    assert (results["status"], results["currency"], results["confidence"]) == (
        "running",
        "EUR",
        0.95,
    )
    first, second = results["variants"]
    assert (first["variant_id"], first["exposures"], first["conversions"]) == ("control", 4, 2)
    assert (second["variant_id"], second["exposures"], second["conversions"]) == ("lower", 4, 3)
    assert (first["conversion_rate"], second["conversion_rate"]) == (0.5, 0.75)
    assert first["revenue"] == {"amount": 3000, "currency": "EUR"}
    assert second["revenue"] == {"amount": 6000, "currency": "EUR"}
    assert (first["revenue_per_visitor"], second["revenue_per_visitor"]) == (750.0, 1500.0)
    wilson = wilson_interval(3, 4)
    assert second["conversion_interval"] == {"low": wilson.low, "high": wilson.high}
    assert first["conversion_vs_control"] is None

    # conversion: pooled two-proportion z-test
    conversion = second["conversion_vs_control"]
    pooled = 5 / 8
    z = 0.25 / math.sqrt(pooled * (1 - pooled) * (1 / 4 + 1 / 4))
    assert conversion["difference"] == pytest.approx(0.25)
    assert conversion["statistic"] == pytest.approx(z)
    assert conversion["p_value"] == pytest.approx(2 * (1 - NormalDist().cdf(z)))
    assert conversion["significant"] is False

    # revenue per visitor: Welch's t-test over each unit's revenue (no order: 0)
    a, b = [1000, 2000, 0, 0], [2000, 3000, 1000, 0]
    va, vb = statistics.variance(a) / 4, statistics.variance(b) / 4
    t = 750 / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 3)
    revenue = second["revenue_vs_control"]
    assert revenue["difference"] == pytest.approx(750)
    assert revenue["statistic"] == pytest.approx(t)
    assert revenue["p_value"] == pytest.approx(student_t_two_sided_p(t, df))
    half = student_t_critical(0.95, df) * math.sqrt(va + vb)
    assert revenue["interval"]["low"] == pytest.approx(750 - half)
    rpv_half = NormalDist().inv_cdf(0.975) * math.sqrt(statistics.variance(b) / 4)
    assert second["revenue_per_visitor_interval"]["high"] == pytest.approx(1500 + rpv_half)

    # And another confidence or currency can be asked for
    usd = client.get(
        f"{EXPERIMENTS}/{experiment_id}/results",
        params={"currency": "USD", "confidence": 0.9},
        headers=operator.headers,
    ).json()
    assert [v["revenue"]["amount"] for v in usd["variants"]] == [0, 5000]
    assert usd["variants"][1]["conversions"] == 1


def test_results_without_traffic_are_empty_not_an_error(
    client: TestClient, operator: Account, tee: Product
) -> None:
    experiment = create(client, operator, experiment_json(tee.id))

    results = client.get(f"{EXPERIMENTS}/{experiment['id']}/results", headers=operator.headers)

    assert results.status_code == 200, results.text
    for variant in results.json()["variants"]:
        assert (variant["exposures"], variant["conversion_rate"]) == (0, 0.0)
        assert variant["revenue_per_visitor_interval"] == {"low": None, "high": None}
        assert variant["conversion_vs_control"] is None


def _conversion(
    conn: Any,
    experiment_id: str,
    variant_id: str,
    unit_id: str,
    order_id: str,
    revenue: int,
    currency: str = "EUR",
) -> None:
    conn.execute(
        store.experiment_conversions.insert().values(
            experiment_id=experiment_id,
            order_id=order_id,
            unit_id=unit_id,
            variant_id=variant_id,
            revenue=revenue,
            currency=currency,
            created_at=SystemClock().now(),
        )
    )
