"""Illustrations for the demo's projects, drawn here with Pillow (nothing comes from outside):
a calm colour per category and a simple figure, stored like an uploaded image."""
from __future__ import annotations

import io

from PIL import Image, ImageDraw

from pbvote.services.images import store_image

#: category → (background, figure colour)
COLOURS = {
    "street_lighting": ("#1d3557", "#ffd166"), "youth_spaces": ("#2a9d8f", "#f1faee"),
    "safe_routes": ("#e76f51", "#ffffff"), "parks": ("#386641", "#a7c957"),
    "community_programmes": ("#6d597a", "#f4e285"), "traffic_calming": ("#264653", "#e9c46a"),
}
WIDTH, HEIGHT = 640, 360


def project_image(category: str) -> str:
    """A stored 640×360 PNG for a demo project of `category`; returns its file name."""
    background, ink = COLOURS.get(category, ("#334155", "#e2e8f0"))
    image = Image.new("RGB", (WIDTH, HEIGHT), background)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, HEIGHT - 70, WIDTH, HEIGHT], fill=_darker(background))  # the street
    if category == "street_lighting":
        for x in (120, 320, 520):
            draw.rectangle([x - 6, 110, x + 6, HEIGHT - 70], fill=ink)
            draw.ellipse([x - 34, 70, x + 34, 130], fill=ink)
    elif category == "parks":
        for x in (140, 320, 500):
            draw.rectangle([x - 10, 200, x + 10, HEIGHT - 70], fill="#6b4226")
            draw.ellipse([x - 70, 80, x + 70, 230], fill=ink)
    elif category in ("safe_routes", "traffic_calming"):
        for x in range(60, WIDTH, 90):  # a zebra crossing
            draw.rectangle([x, HEIGHT - 60, x + 50, HEIGHT - 10], fill=ink)
        draw.ellipse([280, 90, 360, 170], fill=ink)
        draw.rectangle([300, 170, 340, 280], fill=ink)
    else:  # people together
        for x, size in ((200, 60), (320, 70), (440, 60)):
            draw.ellipse([x - size // 2, 110, x + size // 2, 110 + size], fill=ink)
            draw.rounded_rectangle([x - size // 2 - 10, 120 + size, x + size // 2 + 10, 290],
                                   radius=20, fill=ink)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return store_image(buffer)


def _darker(colour: str) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"#{red * 3 // 4:02x}{green * 3 // 4:02x}{blue * 3 // 4:02x}"
