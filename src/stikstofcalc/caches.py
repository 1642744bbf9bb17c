"""One registry of the package's in-process caches, and :func:`clear_caches` to empty them.

The package caches what is expensive to build and the same for every call: the model and
terrain tables, the Natura 2000 hexagons, receptor sets, key-figure editions and their
overrides, kernel parts and emission memos. A long-running process (a notebook, a server,
a test that changes a data file) can drop all of them at once with :func:`clear_caches`;
the next call builds them again from the files. Every cache registers here where it is
made (:func:`cached` for functions, :func:`register` for dicts), so none is forgotten
(``tests/caches/test_caches.py`` checks the source for caches that did not register).
"""

from __future__ import annotations

import functools

_CACHES: dict[str, object] = {}


def register(name: str, cache):
    """Register ``cache`` (anything with ``cache_clear()`` or ``clear()``) under ``name``; returns it."""
    if not (hasattr(cache, "cache_clear") or hasattr(cache, "clear")):
        raise TypeError(f"cache {name!r} has neither cache_clear() nor clear()")
    _CACHES[name] = cache
    return cache


def cached(maxsize: int | None = 128):
    """:func:`functools.lru_cache`, registered under the function's module and name."""
    def decorate(fn):
        wrapped = functools.lru_cache(maxsize=maxsize)(fn)
        register(f"{fn.__module__}.{fn.__qualname__}", wrapped)
        return wrapped
    return decorate


def clear_caches() -> list[str]:
    """Empty every registered cache of the modules imported so far; returns their names."""
    for cache in _CACHES.values():
        (cache.cache_clear if hasattr(cache, "cache_clear") else cache.clear)()
    return sorted(_CACHES)


def cache_sizes() -> dict[str, int]:
    """Entries held per registered cache (for a memory check or a test)."""
    out = {}
    for name, cache in _CACHES.items():
        out[name] = cache.cache_info().currsize if hasattr(cache, "cache_info") else len(cache)
    return out
