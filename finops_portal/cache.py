"""A Redis cache that degrades to "miss" when Redis is unreachable.

Pages cache derived data only (figures, reports, throttle counts, session copies),
so a Redis outage should cost speed, never a 500: reads answer the default, writes
are dropped, and each failure is logged.
"""

import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
CACHE_ERRORS = (RedisError, OSError)


def _logged(name: str, fallback):
    def method(self, *args, **kwargs):
        try:
            return getattr(super(ResilientRedisCache, self), name)(*args, **kwargs)
        except CACHE_ERRORS as error:
            logger.warning("Cache %s failed, carrying on without it: %s", name, error)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = name
    return method


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one ``redis.Redis`` per connection pool.

    Django builds a new ``redis.Redis`` for every cache call, and each one fills a
    table of some 500 response callbacks: more work than a small ``GET`` itself.
    A ``redis.Redis`` is safe to share between threads (connections come from the
    pool), so one per pool is enough."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)
            client = self._clients.setdefault(index, self._client(connection_pool=pool))
        return client


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, except that an unreachable Redis reads as a cache miss,
    with one Redis client per connection pool (see ``ReusedClientRedisCacheClient``)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    get = _logged("get", lambda key, default=None, *a, **kw: default)
    get_many = _logged("get_many", {})
    has_key = _logged("has_key", False)
    set = _logged("set", None)
    add = _logged("add", False)
    touch = _logged("touch", False)
    set_many = _logged("set_many", lambda data, *a, **kw: list(data))
    delete = _logged("delete", False)
    delete_many = _logged("delete_many", None)
