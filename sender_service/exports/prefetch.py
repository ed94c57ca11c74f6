"""Produce an iterator's chunks in a background thread while the caller consumes them.

The export's database reads (waiting on the socket) and its compression (zlib, which releases
the GIL) then run at the same time instead of taking turns. The queue is bounded, so memory
stays a few chunks whatever the export's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Final, Generic, TypeVar

T = TypeVar("T")

_DEPTH: Final = 8
_POLL_SECONDS: Final = 0.1


class _Done:
    """The producer's last item: its error, if it failed."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class Prefetched(Generic[T]):
    """`source`'s items, produced from now on by a thread `name`. Its error is raised to the
    consumer; `close()` (also at the end of a `with`) stops and closes `source`, calling
    `interrupt` first if the thread is still at work (to cancel a query it waits on)."""

    def __init__(
        self, source: Iterator[T], name: str, interrupt: Callable[[], None] | None = None
    ) -> None:
        self._source = source
        self._interrupt = interrupt
        self._handoff: queue.Queue[T | _Done] = queue.Queue(maxsize=_DEPTH)
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._produce, name=name, daemon=True)
        self._worker.start()

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._handoff.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        if self._interrupt is not None and self._worker.is_alive():
            self._interrupt()
        self._worker.join()

    def __enter__(self) -> Prefetched[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _put(self, item: T | _Done) -> bool:
        while not self._stop.is_set():
            try:
                self._handoff.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        error: BaseException | None = None
        try:
            for item in self._source:
                if not self._put(item):
                    break
        except BaseException as exc:  # handed to the consumer, which raises it
            error = exc
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()  # releases the source's cursor in the thread that used it
        self._put(_Done(error))
