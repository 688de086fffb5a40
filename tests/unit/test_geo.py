"""The pure map rules: reading points, the coarse public grid, integer point-in-polygon and
GeoJSON outline files with their errors by feature."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbvote.rules import geo
from pbvote.rules.geo import Point

SQUARE = (((0, 0), (10_000, 0), (10_000, 10_000), (0, 10_000), (0, 0)),)
SQUARE_WITH_HOLE = SQUARE + (((4_000, 4_000), (6_000, 4_000), (6_000, 6_000), (4_000, 6_000),
                              (4_000, 4_000)),)


def feature(district, coordinates, kind="Polygon"):
    return {"type": "Feature", "properties": {"district": district},
            "geometry": {"type": kind, "coordinates": coordinates}}


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


RING = [[-74.01, 40.70], [-74.00, 40.70], [-74.00, 40.71], [-74.01, 40.71], [-74.01, 40.70]]


# --- points -----------------------------------------------------------------------------

def test_parse_point_reads_decimal_degrees_exactly():
    point, reasons = geo.parse_point(" 40.712776, -74.005974 ")
    assert reasons == [] and point == Point(40_712_776, -74_005_974)
    assert point.as_text() == "40.712776, -74.005974"
    assert geo.parse_point("-0.5, 0.0000005")[0] == Point(-500_000, 0)  # half to even
    assert geo.parse_point("")[0] is None and geo.parse_point("  ")[1] == []


@pytest.mark.parametrize("text", ["40.7", "a, b", "1, 2, 3", "nan, 1", "inf, 2",
                                  "40.7 -74.0", "1" * 30 + ", 2"])
def test_parse_point_refuses_malformed_text(text):
    point, reasons = geo.parse_point(text)
    assert point is None and [r.code for r in reasons] == ["point_malformed"]


@pytest.mark.parametrize("text", ["91, 0", "-90.000001, 0", "0, 180.5", "0, -181", "1e999999, 2"])
def test_parse_point_refuses_out_of_range(text):
    point, reasons = geo.parse_point(text)
    assert point is None and [r.code for r in reasons] == ["point_out_of_range"]


def test_snap_gives_the_cell_centre_for_negative_and_positive_values():
    assert geo.snap(40_712_776) == 40_712_500
    assert geo.snap(40_712_000) == 40_712_500
    assert geo.snap(40_712_999) == 40_712_500
    assert geo.snap(-74_005_974) == -74_005_500
    assert geo.snap(-1) == -500


@given(st.integers(-90 * geo.MICRO, 90 * geo.MICRO), st.integers(-180 * geo.MICRO,
                                                                  180 * geo.MICRO))
def test_public_point_is_within_half_a_cell_and_the_same_for_the_whole_cell(lat, lon):
    shown = geo.public_point(Point(lat, lon))
    assert abs(shown.lat - lat) <= geo.PUBLIC_GRID // 2
    assert abs(shown.lon - lon) <= geo.PUBLIC_GRID // 2
    corner = Point(lat - lat % geo.PUBLIC_GRID, lon - lon % geo.PUBLIC_GRID)
    if geo.in_range(Point(corner.lat + geo.PUBLIC_GRID, corner.lon + geo.PUBLIC_GRID)):
        assert geo.public_point(corner) == shown  # nothing finer than the cell survives


def test_public_point_hides_an_exact_address():
    home = Point(40_712_776, -74_005_974)
    neighbour = Point(40_712_101, -74_005_013)
    assert geo.public_point(home) == geo.public_point(neighbour) != home


# --- point in polygon -------------------------------------------------------------------

@pytest.mark.parametrize(("lat", "lon", "inside"), [
    (5_000, 1_000, True), (-1, 5_000, False), (10_001, 5_000, False), (5_000, 10_001, False),
    (0, 0, True), (0, 5_000, True), (10_000, 10_000, True),  # edges and corners count
])
def test_point_in_square(lat, lon, inside):
    assert geo.in_polygon(Point(lat, lon), SQUARE) is inside


def test_holes_are_outside_but_their_edges_inside():
    assert geo.in_polygon(Point(5_000, 5_000), SQUARE_WITH_HOLE) is False
    assert geo.in_polygon(Point(4_000, 5_000), SQUARE_WITH_HOLE) is True
    assert geo.in_polygon(Point(2_000, 2_000), SQUARE_WITH_HOLE) is True


def test_concave_polygon_and_vertex_ray():
    # a "U": the notch between the arms is outside
    u_shape = (((0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30),
                (0, 0)),)
    assert geo.in_polygon(Point(20, 15), u_shape) is False
    assert geo.in_polygon(Point(20, 5), u_shape) is True
    assert geo.in_polygon(Point(10, 5), u_shape) is True  # the ray passes through vertices
    assert geo.in_outline(Point(20, 15), [u_shape, SQUARE]) is True


# --- GeoJSON ----------------------------------------------------------------------------

def test_reads_polygon_and_multipolygon_by_district():
    data = collection(feature("north", [RING]),
                      feature("south", [[RING], [[[p[0], p[1] - 1] for p in RING]]],
                              "MultiPolygon"))
    outline, reasons = geo.read_outlines(data, ["north", "south"])
    assert reasons == []
    assert set(outline.outlines) == {"north", "south"}
    assert outline.outlines["north"][0][0][0] == (-74_010_000, 40_700_000)
    assert len(outline.outlines["south"]) == 2 and outline.positions == 15
    stored = geo.polygons_to_json(outline.outlines["south"])
    assert geo.polygons_from_json(stored) == outline.outlines["south"]
    assert geo.in_outline(Point(40_705_000, -74_005_000), outline.outlines["north"])
    assert geo.bounds(outline.outlines["north"]) == (Point(40_700_000, -74_010_000),
                                                     Point(40_710_000, -74_000_000))


@pytest.mark.parametrize(("data", "fragment"), [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b'{"type": "Feature"}', "FeatureCollection"),
    (b'{"type": "FeatureCollection", "features": []}', "no features"),
    (b'{"type": "FeatureCollection", "features": [NaN]}', "not valid JSON"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
     b'{"district": "north"}, "geometry": {"type": "Polygon", "coordinates": '
     b'[[[1e999, 1], [1, 1], [2, 2], [1e999, 1]]]}}]}', "longitude first"),
])
def test_file_level_errors(data, fragment):
    outline, reasons = geo.read_outlines(data, ["north"])
    assert outline is None and len(reasons) == 1 and fragment in reasons[0].message, reasons


def test_every_bad_feature_is_reported_with_its_number():
    open_ring = RING[:-1] + [[-74.02, 40.70]]
    data = collection(
        feature("north", [RING]),
        feature("nowhere", [RING]),
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                           "coordinates": [RING]}},
        feature("south", [open_ring]),
        feature("east", [[[40.7, -740.0], [1, 1], [2, 2], [40.7, -740.0]]]),
        feature("west", [[0, 0], [1, 1]], "LineString"),
        feature("north", [RING]),
        feature("centre", [RING[:3]]),
        feature("harbour", [[["a", 1], [1, 1], [2, 2], ["a", 1]]]),
    )
    outline, reasons = geo.read_outlines(
        data, ["north", "south", "east", "west", "centre", "harbour"])
    assert outline is None
    by_field = {r.field: r.message for r in reasons}
    assert set(by_field) == {f"feature:{n}" for n in range(2, 10)}
    assert "nowhere" in by_field["feature:2"] and "not a district" in by_field["feature:2"]
    assert "no \"district\" property" in by_field["feature:3"]
    assert "not closed" in by_field["feature:4"]
    assert "longitude first" in by_field["feature:5"]
    assert "LineString" in by_field["feature:6"]
    assert "outlined twice" in by_field["feature:7"]
    assert "fewer than four" in by_field["feature:8"]
    assert "pair of numbers" in by_field["feature:9"]
    assert all(m.startswith(f"Feature {f.split(':')[1]}:") for f, m in by_field.items())


def test_size_limits():
    big = b" " * (geo.MAX_FILE_BYTES + 1)
    assert "larger than" in geo.read_outlines(big, [])[1][0].message
    many = collection(*[feature("north", [RING])] * (geo.MAX_FEATURES + 1))
    assert "more than" in geo.read_outlines(many, ["north"])[1][0].message


# --- tile servers -----------------------------------------------------------------------

def test_tile_source_is_the_one_host_for_the_csp():
    assert geo.tile_source(None) is None and geo.tile_source("") is None
    assert geo.tile_source("https://tile.example.org/{z}/{x}/{y}.png") == \
        "https://tile.example.org"
    assert geo.tile_source("https://{s}.Tiles.example.org:8443/a/{z}/{x}/{y}.png") == \
        "https://*.tiles.example.org:8443"


@pytest.mark.parametrize("url", ["http://tile.example.org/{z}/{x}/{y}.png",
                                 "https://tile.example.org/tiles.png",
                                 "https://tile.example.org;script-src/{z}/{x}/{y}",
                                 "https://user@tile.example.org/{z}/{x}/{y}",
                                 "javascript:alert(1)//{z}{x}{y}"])
def test_tile_source_refuses_unsafe_templates(url):
    with pytest.raises(ValueError):
        geo.tile_source(url)


coordinate = st.integers(-1_000, 1_000)


@given(coordinate, coordinate, coordinate, coordinate, coordinate, coordinate, coordinate,
       coordinate)
def test_point_in_triangle_agrees_with_the_sign_of_cross_products(ax, ay, bx, by, cx, cy, px,
                                                                  py):
    def cross(ox, oy, qx, qy, rx, ry):
        return (qx - ox) * (ry - oy) - (qy - oy) * (rx - ox)

    signs = [cross(ax, ay, bx, by, px, py), cross(bx, by, cx, cy, px, py),
             cross(cx, cy, ax, ay, px, py)]
    if cross(ax, ay, bx, by, cx, cy) == 0:
        return  # a flat triangle: no area to be inside of
    expected = all(s >= 0 for s in signs) or all(s <= 0 for s in signs)
    triangle = (((ax, ay), (bx, by), (cx, cy), (ax, ay)),)
    assert geo.in_polygon(Point(py, px), triangle) is expected
