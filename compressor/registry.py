"""The method registry: built-in methods are imported on first use (heavy dependencies stay lazy);
plug-ins register with ``@register("name")``."""

from __future__ import annotations

import importlib
import threading

from compressor.methods.base import Method

_BUILTIN = {
    "truncate": "compressor.methods.truncate:Truncate",
    "extractive": "compressor.methods.extractive:Extractive",
    "retrieve": "compressor.methods.retrieve:Retrieve",
    "cfic": "compressor.methods.cfic:Cfic",
    "condenser": "compressor.methods.condenser:Condenser",
    "llmlingua2": "compressor.methods.llmlingua2:LLMLingua2",
    "provence": "compressor.methods.provence:Provence",
    "exit": "compressor.methods.exit:Exit",
}
_registered: dict[str, type[Method]] = {}
_instances: dict[str, Method] = {}
_lock = threading.Lock()


def register(name: str):
    """Class decorator: make a ``Method`` subclass available to ``compress(method=name)``."""

    def wrap(cls: type[Method]) -> type[Method]:
        if not (isinstance(cls, type) and issubclass(cls, Method)):
            raise TypeError(f"@register({name!r}) needs a Method subclass, got {cls!r}")
        cls.name = name
        _registered[name] = cls
        _instances.pop(name, None)
        return cls

    return wrap


def add_builtin(name: str, target: str) -> None:
    """Declare a lazily imported method (``"package.module:Class"``)."""
    _BUILTIN[name] = target


def available_methods() -> list[str]:
    """Names accepted by ``compress(method=...)``."""
    return sorted(set(_BUILTIN) | set(_registered))


def _load_class(name: str) -> type[Method]:
    if name in _registered:
        return _registered[name]
    module, _, attr = _BUILTIN[name].partition(":")
    cls = getattr(importlib.import_module(module), attr)
    _registered.setdefault(name, cls)
    return _registered[name]


def get_method(name: str) -> Method:
    """The shared instance of method ``name`` (models load once per process)."""
    if not isinstance(name, str) or name not in available_methods():
        raise ValueError(f"unknown method {name!r}; available: {', '.join(available_methods())}")
    with _lock:
        if name not in _instances:
            _instances[name] = _load_class(name)()
        return _instances[name]
