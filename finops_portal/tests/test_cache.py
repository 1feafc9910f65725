import pytest

from finops_portal.cache import ResilientRedisCache

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def unreachable_cache():
    return ResilientRedisCache(
        CLOSED_PORT, {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}
    )


def test_an_unreachable_redis_reads_as_a_miss(unreachable_cache, caplog):
    assert unreachable_cache.get("k") is None
    assert unreachable_cache.get("k", "fallback") == "fallback"
    assert unreachable_cache.get_many(["a", "b"]) == {}
    assert unreachable_cache.has_key("k") is False
    assert "Cache get failed, carrying on without it" in caplog.text


def test_writes_to_an_unreachable_redis_are_dropped_quietly(unreachable_cache):
    assert unreachable_cache.set("k", 1) is None
    assert unreachable_cache.add("k", 1) is False
    assert unreachable_cache.delete("k") is False
    assert unreachable_cache.set_many({"a": 1, "b": 2}) == ["a", "b"]


def test_a_reachable_redis_works_as_usual():
    import os

    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")
    if not url:
        pytest.skip("REDIS_URL is not set")
    cache = ResilientRedisCache(url, {"KEY_PREFIX": "cache-test"})
    cache.set("k", {"v": 1}, 30)
    assert cache.get("k") == {"v": 1}
    cache.delete("k")
    assert cache.get("k") is None


def test_one_redis_client_serves_every_call(unreachable_cache):
    # Django would build a new redis.Redis (and its callback table) per call.
    client = unreachable_cache._cache.get_client("a")
    assert unreachable_cache._cache.get_client("b", write=True) is client
    assert unreachable_cache._cache.get_client() is client
    assert client.connection_pool is unreachable_cache._cache._get_connection_pool(True)


def test_a_reused_client_still_reconnects_after_redis_was_unreachable():
    import os

    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")
    if not url:
        pytest.skip("REDIS_URL is not set")
    cache = ResilientRedisCache(url, {"KEY_PREFIX": "cache-reuse-test"})
    client = cache._cache.get_client()
    client.connection_pool.disconnect()  # as after a Redis restart
    cache.set("k", 2, 30)
    assert cache.get("k") == 2
    assert cache._cache.get_client() is client
    cache.delete("k")
