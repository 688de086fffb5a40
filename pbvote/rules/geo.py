"""Pure rules for the map: points, the coarse public grid, point-in-polygon and district
outlines read from GeoJSON.

Coordinates are whole **microdegrees** (millionths of a degree, about 11 cm of latitude):
integers everywhere, so a point read from a form, stored, compared with an outline and shown
again is the same number on every engine and machine. Text is read with ``Decimal``, never
through a binary float.

A resident's idea may carry the exact spot they clicked (their own street, perhaps their
home). The public map and list never show it: they show the centre of the grid cell the spot
falls in (``PUBLIC_GRID`` microdegrees, 0.001°: about 111 m north to south and less east to
west), so every point within one cell shows the same place.

No Flask or SQLAlchemy here.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from pbvote.i18n_hook import _, format_number
from pbvote.rules.ballots import Reason

MICRO = 1_000_000
#: the public grid, in microdegrees (0.001°, about 100 m)
PUBLIC_GRID = 1_000
LAT_LIMIT = 90 * MICRO
LON_LIMIT = 180 * MICRO
#: an outline file's limits: enough for a city's districts drawn in detail, small enough to
#: check in a request
MAX_FEATURES = 200
MAX_POSITIONS = 200_000
MAX_FILE_BYTES = 5 * 1024 * 1024

#: (longitude, latitude) in microdegrees, GeoJSON's order
Position = tuple[int, int]
#: an outer ring followed by its holes; each ring closed (first position == last)
Polygon = tuple[tuple[Position, ...], ...]


@dataclass(frozen=True)
class Point:
    """A place in microdegrees."""

    lat: int
    lon: int

    def as_text(self) -> str:
        """"lat, lon" in degrees with six decimals: what the form shows and reads back."""
        return f"{_degrees(self.lat)}, {_degrees(self.lon)}"

    def as_degrees(self) -> tuple[float, float]:
        """For the map script only (Leaflet takes floats); never compared or stored."""
        return self.lat / MICRO, self.lon / MICRO


def _degrees(micro: int) -> str:
    sign = "-" if micro < 0 else ""
    whole, part = divmod(abs(micro), MICRO)
    return f"{sign}{whole}.{part:06d}"


def to_micro(value: Decimal | int | str) -> int:
    """Degrees (as Decimal, int or text) to microdegrees, rounding half to even."""
    return int((Decimal(value) * MICRO).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _plausible(*degrees: Decimal) -> bool:
    """Small enough to convert without overflow (range is checked after, exactly)."""
    return all(abs(d) <= 1000 for d in degrees)


def in_range(point: Point) -> bool:
    return -LAT_LIMIT <= point.lat <= LAT_LIMIT and -LON_LIMIT <= point.lon <= LON_LIMIT


def parse_point(text: str | None, field: str = "point") -> tuple[Point | None, list[Reason]]:
    """Read "lat, lon" in decimal degrees (as the form and the map script write it).

    Blank is no point (the field is optional). Anything else that is not two numbers in
    range is a reason naming ``field``."""
    text = (text or "").strip()
    if not text:
        return None, []
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    malformed = Reason(field, "point_malformed", _(
        "Write the place as latitude, then longitude, in decimal degrees separated by a comma, "
        "for example %(example)s.", example="40.7128, -74.0060"))
    if len(parts) != 2 or any(len(p) > 20 for p in parts):
        return None, [malformed]
    try:
        lat, lon = (Decimal(p) for p in parts)
    except InvalidOperation:
        return None, [malformed]
    if not (lat.is_finite() and lon.is_finite()):
        return None, [malformed]
    point = Point(to_micro(lat), to_micro(lon)) if _plausible(lat, lon) else None
    if point is None or not in_range(point):
        return None, [Reason(field, "point_out_of_range", _(
            "Latitude must be between -90 and 90 and longitude between -180 and 180."))]
    return point, []


def snap(micro: int, grid: int = PUBLIC_GRID) -> int:
    """The centre of the grid cell holding ``micro``: every value in one cell gives the same
    result, so the exact value cannot be read back from it."""
    return (micro // grid) * grid + grid // 2


def public_point(point: Point, grid: int = PUBLIC_GRID) -> Point:
    """Where the public map shows a resident's point: the centre of its grid cell."""
    lat = min(max(snap(point.lat, grid), -LAT_LIMIT), LAT_LIMIT)
    lon = min(max(snap(point.lon, grid), -LON_LIMIT), LON_LIMIT)
    return Point(lat, lon)


# ---------------------------------------------------------------------------
# Point in polygon, in integers

def _on_segment(x: int, y: int, a: Position, b: Position) -> bool:
    (x1, y1), (x2, y2) = a, b
    if (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) != 0:
        return False
    return min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2)


def _ring_state(x: int, y: int, ring: Sequence[Position]) -> int:
    """1 if (x, y) is inside the ring, 0 outside, -1 on its edge (even-odd crossing test,
    with the crossing compared by cross-multiplication: no division, no rounding)."""
    inside = False
    for a, b in zip(ring, ring[1:]):
        if _on_segment(x, y, a, b):
            return -1
        (x1, y1), (x2, y2) = a, b
        if (y1 > y) != (y2 > y):
            # x < x1 + (y - y1) * (x2 - x1) / (y2 - y1), multiplied through by (y2 - y1)
            left = (x - x1) * (y2 - y1)
            right = (y - y1) * (x2 - x1)
            if (left < right) if y2 > y1 else (left > right):
                inside = not inside
    return 1 if inside else 0


def in_polygon(point: Point, polygon: Polygon) -> bool:
    """Inside the outer ring and in none of the holes; a point on an edge counts as inside
    (a resident who clicks on a boundary street is in either district)."""
    x, y = point.lon, point.lat
    outer = _ring_state(x, y, polygon[0])
    if outer == 0:
        return False
    if outer == -1:
        return True
    return all(_ring_state(x, y, hole) != 1 for hole in polygon[1:])


def in_outline(point: Point, polygons: Iterable[Polygon]) -> bool:
    return any(in_polygon(point, polygon) for polygon in polygons)


# ---------------------------------------------------------------------------
# GeoJSON outlines

@dataclass(frozen=True)
class OutlineFile:
    """A checked outline file: for each district slug, its polygons."""

    outlines: dict[str, tuple[Polygon, ...]]
    features: int
    positions: int


def _feature_reason(index: int, message: str) -> Reason:
    return Reason(f"feature:{index + 1}", "outline_feature", _(
        "Feature %(number)s: %(message)s", number=format_number(index + 1), message=message))


def _file_reason(message: str) -> Reason:
    return Reason("outlines", "outline_file", message)


def _position(value) -> Position | str:
    if (not isinstance(value, list) or len(value) < 2
            or not all(isinstance(v, (int, Decimal)) and not isinstance(v, bool)
                       for v in value[:2])):
        return _("a position is not a pair of numbers [longitude, latitude].")
    if not all(Decimal(v).is_finite() for v in value[:2]):
        return _("a position is not a pair of numbers [longitude, latitude].")
    plausible = _plausible(Decimal(value[0]), Decimal(value[1]))
    lon, lat = (to_micro(value[0]), to_micro(value[1])) if plausible else (0, LAT_LIMIT + 1)
    if not in_range(Point(lat, lon)):
        return _("a position is outside the range of longitude (-180 to 180) or latitude "
                 "(-90 to 90); GeoJSON puts longitude first.")
    return lon, lat


def _polygon(rings) -> Polygon | str:
    if not isinstance(rings, list) or not rings:
        return _("a polygon has no rings.")
    result = []
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            return _("a ring has fewer than four positions.")
        positions = []
        for value in ring:
            position = _position(value)
            if isinstance(position, str):
                return position
            positions.append(position)
        if positions[0] != positions[-1]:
            return _("a ring is not closed (its last position must repeat its first).")
        if len(set(positions)) < 3:
            return _("a ring has fewer than three distinct positions.")
        result.append(tuple(positions))
    return tuple(result)


def _geometry(geometry) -> tuple[Polygon, ...] | str:
    if not isinstance(geometry, dict):
        return _("it has no geometry.")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        members = [coordinates]
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            return _("its MultiPolygon has no polygons.")
        members = coordinates
    else:
        return _("its geometry is %(kind)s; only Polygon and MultiPolygon outline a district.",
                 kind=str(kind)[:40])
    polygons = []
    for member in members:
        polygon = _polygon(member)
        if isinstance(polygon, str):
            return polygon
        polygons.append(polygon)
    return tuple(polygons)


def read_outlines(data: bytes, district_slugs: Sequence[str]) -> tuple[OutlineFile | None,
                                                                          list[Reason]]:
    """Check a GeoJSON FeatureCollection whose features each outline one district, named by
    ``properties.district`` (the district's slug). Every problem is reported, by feature;
    the file is usable only when there are none."""
    if len(data) > MAX_FILE_BYTES:
        return None, [_file_reason(_("The file is larger than %(size)s MB.",
                                     size=format_number(MAX_FILE_BYTES // (1024 * 1024))))]
    try:
        text = data.decode("utf-8-sig")
        document = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, [_file_reason(_("The file is not valid JSON (GeoJSON is JSON in UTF-8)."))]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return None, [_file_reason(_("The file must be a GeoJSON FeatureCollection."))]
    features = document.get("features")
    if not isinstance(features, list) or not features:
        return None, [_file_reason(_("The FeatureCollection has no features."))]
    if len(features) > MAX_FEATURES:
        return None, [_file_reason(_("The file has more than %(count)s features.",
                                     count=format_number(MAX_FEATURES)))]
    known = set(district_slugs)
    reasons: list[Reason] = []
    outlines: dict[str, tuple[Polygon, ...]] = {}
    positions = 0
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            reasons.append(_feature_reason(index, _("it is not a GeoJSON Feature.")))
            continue
        properties = feature.get("properties")
        slug = properties.get("district") if isinstance(properties, dict) else None
        if not isinstance(slug, str) or not slug:
            reasons.append(_feature_reason(index, _(
                "it has no \"district\" property naming the district it outlines.")))
            continue
        if slug not in known:
            reasons.append(_feature_reason(index, _(
                "\"%(slug)s\" is not a district of this cycle.", slug=slug[:80])))
            continue
        if slug in outlines:
            reasons.append(_feature_reason(index, _(
                "district \"%(slug)s\" is outlined twice; put its parts in one MultiPolygon.",
                slug=slug)))
            continue
        polygons = _geometry(feature.get("geometry"))
        if isinstance(polygons, str):
            reasons.append(_feature_reason(index, polygons))
            continue
        positions += sum(len(ring) for polygon in polygons for ring in polygon)
        outlines[slug] = polygons
    if positions > MAX_POSITIONS:
        reasons.append(_file_reason(_("The outlines have more than %(count)s positions; "
                                      "simplify them first.",
                                      count=format_number(MAX_POSITIONS))))
    if reasons:
        return None, reasons
    return OutlineFile(outlines, len(features), positions), []


def _refuse_constant(name: str):
    raise ValueError(name)


def polygons_to_json(polygons: Sequence[Polygon]) -> str:
    """Storage form: nested lists of integer microdegrees, [lon, lat] as in GeoJSON."""
    return json.dumps([[[list(p) for p in ring] for ring in polygon] for polygon in polygons],
                      separators=(",", ":"))


def polygons_from_json(text: str) -> tuple[Polygon, ...]:
    return tuple(tuple(tuple((int(p[0]), int(p[1])) for p in ring) for ring in polygon)
                 for polygon in json.loads(text))


def geojson_geometry(polygons: Sequence[Polygon]) -> dict:
    """A GeoJSON MultiPolygon in degrees, for the map script."""
    return {"type": "MultiPolygon",
            "coordinates": [[[[lon / MICRO, lat / MICRO] for lon, lat in ring]
                             for ring in polygon] for polygon in polygons]}


def bounds(polygons: Iterable[Polygon]) -> tuple[Point, Point] | None:
    """South-west and north-east corners of everything given, or None."""
    lons, lats = [], []
    for polygon in polygons:
        for lon, lat in polygon[0]:
            lons.append(lon)
            lats.append(lat)
    if not lons:
        return None
    return Point(min(lats), min(lons)), Point(max(lats), max(lons))


# ---------------------------------------------------------------------------
# Tile servers

def tile_source(url: str | None) -> str | None:
    """The CSP source of a tile URL template ("https://{s}.tile.example.org/{z}/{x}/{y}.png"
    gives "https://*.tile.example.org"), or None for no tiles. Raises ValueError for a
    template the map cannot use safely: not https, no {z}/{x}/{y}, or a host with odd
    characters."""
    if not url:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ValueError("MAP_TILES must be an https:// URL")
    if not all(key in url for key in ("{z}", "{x}", "{y}")):
        raise ValueError("MAP_TILES must contain {z}, {x} and {y}")
    host = parts.netloc
    if host.startswith("{s}."):
        host = "*." + host[4:]
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-:")
    name = host[2:] if host.startswith("*.") else host
    if not name or not set(name.lower()) <= allowed or "@" in host:
        raise ValueError("MAP_TILES has a host the map cannot allow: " + host)
    return f"https://{host.lower()}"
