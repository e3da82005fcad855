"""Coordinates: stored in WGS-84, served in WGS-84 or GCJ-02 (what Chinese map tiles use), by coord-convert."""

from __future__ import annotations

from coord_convert.transform import gcj2wgs, wgs2gcj

from liangshi.errors import ValidationFailed


def to_crs(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """WGS-84 (how positions are stored) to the requested system: `wgs84` or `gcj02` (Chinese map tiles)."""
    if crs == "wgs84":
        return lon, lat
    if crs == "gcj02":
        glon, glat = wgs2gcj(lon, lat)
        return round(glon, 7), round(glat, 7)
    raise ValidationFailed(
        "crs.unknown", "坐标系无效（wgs84 或 gcj02）", "Unknown CRS (wgs84 or gcj02)", {"field": "crs"}
    )


def from_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 (read off a Chinese map) back to WGS-84 for storage."""
    wlon, wlat = gcj2wgs(lon, lat)
    return round(wlon, 7), round(wlat, 7)
