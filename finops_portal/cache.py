"""A Redis cache that degrades to "miss" when Redis is unreachable.

Pages cache derived data only (figures, reports, throttle counts, session copies),
so a Redis outage should cost speed, never a 500: reads answer the default, writes
are dropped, and each failure is logged.
"""

import logging

from django.core.cache.backends.redis import RedisCache
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


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, except that an unreachable Redis reads as a cache miss."""

    get = _logged("get", lambda key, default=None, *a, **kw: default)
    get_many = _logged("get_many", {})
    has_key = _logged("has_key", False)
    set = _logged("set", None)
    add = _logged("add", False)
    touch = _logged("touch", False)
    set_many = _logged("set_many", lambda data, *a, **kw: list(data))
    delete = _logged("delete", False)
    delete_many = _logged("delete_many", None)
