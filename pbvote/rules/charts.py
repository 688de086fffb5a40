"""Accessible SVG bar charts rendered on the server: no script, no CDN, no inline styles.

Each chart carries <title> and <desc>, labels every bar in text (name and value), and marks
highlighted bars with a text tag and a pattern as well as a colour, so nothing depends on
colour alone. Colours come from presentation attributes (allowed by the CSP) and can be
overridden by classes in pbvote.css.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from html import escape
from itertools import count

_ids = count(1)

INK = "#1b1f24"
BAR = "#0b5394"
BAR_HIGHLIGHT = "#1e6b34"
TRACK = "#e8edf2"


@dataclass(frozen=True)
class Bar:
    label: str
    #: exact value; widths are computed from it, then rounded to whole pixels for drawing only
    value: int | Fraction
    #: the value as people read it, e.g. "1,234 votes" or "$40,000"
    value_text: str
    highlighted: bool = False
    #: short text shown after the value for highlighted bars, e.g. "funded"
    tag: str = ""


def _text(value: str) -> str:
    return escape(value, quote=True)


def _clip(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


#: the phone variant's width: drawn at about its own size on a 375 px screen, so its 14-unit
#: text reads at about 14 px there (the wide chart, shrunk to fit, read at 7 px)
NARROW_WIDTH = 340


def responsive_bar_chart(title: str, description: str, bars: list[Bar], *,
                         scale_max: int | Fraction | None = None, width: int = 640,
                         label_chars: int = 34) -> str:
    """The wide chart for large screens and a narrow one for phones; the stylesheet shows
    one of them (the other is display: none, so screen readers meet one chart too).
    `width` and `label_chars` shape the wide one only."""
    return (bar_chart(title, description, bars, scale_max=scale_max, width=width,
                      label_chars=label_chars, css_class="chart-wide")
            + bar_chart(title, description, bars, scale_max=scale_max, width=NARROW_WIDTH,
                        narrow=True, css_class="chart-narrow"))


def bar_chart(title: str, description: str, bars: list[Bar], *,
              scale_max: int | Fraction | None = None,
              width: int = 640, label_chars: int = 34, narrow: bool = False,
              css_class: str = "") -> str:
    """Horizontal bars, one row each: label above, bar and value below (narrow: the value
    on a line of its own under the bar, which then takes the whole width)."""
    chart_id = f"chart-{next(_ids)}"
    row_height, bar_height, top = (64 if narrow else 46), 18, 8
    bar_left, value_room = 4, (4 if narrow else 190)
    bar_span = width - bar_left - value_room
    largest = max([b.value for b in bars] + [scale_max or 0, 0])
    height = top + row_height * max(len(bars), 1) + 4
    classes = f"chart {css_class}".strip()
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{classes}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{_text(description)}</desc>',
        f'<defs><pattern id="{chart_id}-hatch" width="8" height="8" '
        f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="8" height="8" fill="{BAR_HIGHLIGHT}"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="#ffffff" stroke-width="3"/></pattern></defs>',
    ]
    if not bars:
        parts.append(f'<text x="{bar_left}" y="{top + 20}" fill="{INK}" font-size="14">'
                     f'{_text("No data")}</text>')
    for index, bar in enumerate(bars):
        y = top + index * row_height
        share = Fraction(bar.value) / largest if largest else Fraction(0)
        bar_width = round(share * bar_span)
        if bar.value and bar_width < 2:
            bar_width = 2  # a tiny non-zero value stays visible
        fill = f"url(#{chart_id}-hatch)" if bar.highlighted else BAR
        value_text = bar.value_text + (f" · {bar.tag}" if bar.highlighted and bar.tag else "")
        parts.append(
            f'<g class="chart-row{" chart-row-highlighted" if bar.highlighted else ""}">'
            f'<text x="{bar_left}" y="{y + 13}" fill="{INK}" font-size="14">'
            f'{_text(_clip(bar.label, (label_chars if narrow else label_chars * 2)))}</text>'
            f'<rect x="{bar_left}" y="{y + 19}" width="{bar_span}" height="{bar_height}" '
            f'fill="{TRACK}"/>'
            f'<rect class="chart-bar" x="{bar_left}" y="{y + 19}" width="{bar_width}" '
            f'height="{bar_height}" fill="{fill}" stroke="{INK}" stroke-width="1"/>'
            f'<text x="{bar_left if narrow else bar_left + bar_span + 8}" '
            f'y="{y + (55 if narrow else 33)}" fill="{INK}" font-size="14" '
            f'font-weight="{"700" if bar.highlighted else "400"}">{_text(value_text)}</text>'
            f'</g>')
    parts.append("</svg>")
    return "".join(parts)
