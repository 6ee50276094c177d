"""Live sources behind one interface: a :class:`Source` yields :class:`Batch` es of uniform samples.

* :mod:`~stridelab.live.sources.replay` -- a stored IMU recording at 1×–100× speed;
* :mod:`~stridelab.live.sources.phone` -- the Sensor Logger app's HTTP push (JSON batches), received
  by a local FastAPI route (token-protected when not bound to 127.0.0.1);
* :mod:`~stridelab.live.sources.ble` -- Bluetooth LE byte parsers (Running Speed and Cadence 0x2A53,
  Heart Rate Measurement 0x2A37, Polar PMD accelerometer frames) and a ``bleak`` adapter (lazy).
"""

from stridelab.live.sources.base import Batch, SensorInfo, Source

__all__ = ["Batch", "SensorInfo", "Source"]
