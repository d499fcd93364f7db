"""PostgreSQL connections per server process: sized so four replicas fit the server's default limit."""

from __future__ import annotations

import pytest

from facilitation import store as S


def test_four_replicas_at_the_defaults_fit_in_postgresqls_default_100_connections():
    pool, overflow = S.pool_settings({})
    assert 4 * (pool + overflow + 1) <= 100  # + 1: each process's LISTEN connection


def test_the_pool_is_set_per_deployment_and_a_bad_value_names_the_setting():
    assert S.pool_settings({S.POOL_SIZE_SETTING: "4", S.MAX_OVERFLOW_SETTING: "0"}) == (4, 0)
    with pytest.raises(ValueError, match=S.POOL_SIZE_SETTING):
        S.pool_settings({S.POOL_SIZE_SETTING: "ten"})
    with pytest.raises(ValueError, match=S.POOL_SIZE_SETTING):
        S.pool_settings({S.POOL_SIZE_SETTING: "0"})
    with pytest.raises(ValueError, match=S.MAX_OVERFLOW_SETTING):
        S.pool_settings({S.MAX_OVERFLOW_SETTING: "-1"})


def test_a_postgresql_store_opens_at_most_its_pool_and_overflow(pg_database, monkeypatch):
    monkeypatch.setenv(S.POOL_SIZE_SETTING, "3")
    monkeypatch.setenv(S.MAX_OVERFLOW_SETTING, "2")
    store = S.Store(pg_database)
    try:
        assert store.engine.pool.size() == 3 and store.engine.pool._max_overflow == 2
    finally:
        store.engine.dispose()
