"""IMU readers: generic CSV/Parquet tables, Sensor Logger and phyphox exports, JSON sidecars.

SI inside: acceleration in m/s² (gravity included), angular velocity in rad/s, time in s.
"""

from stridelab.io.imu._apps import read_phyphox, read_sensor_logger
from stridelab.io.imu._reader import ImuReader as ImuReader
from stridelab.io.imu._recording import ImuRecording, ImuSensor
from stridelab.io.imu._sidecar import SIDECAR_SUFFIX, find_sidecar, read_imu, read_recording_with_sidecar
from stridelab.io.imu._table import read_imu_table, resample_uniform, sensor_from_frame

__all__ = [
    "SIDECAR_SUFFIX",
    "ImuRecording",
    "ImuSensor",
    "find_sidecar",
    "read_imu",
    "read_imu_table",
    "read_phyphox",
    "read_recording_with_sidecar",
    "read_sensor_logger",
    "resample_uniform",
    "sensor_from_frame",
]
