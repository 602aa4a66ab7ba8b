"""The target-against-achieved chart as server-rendered SVG (no JavaScript, no CDN)."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, BAR, GAP, TOP, LEFT = 560, 26, 14, 24, 44


def vector_chart(target: dict[str, int], achieved: dict[str, int]) -> Markup:
    """One row per FR: the achieved level as a bar, the target as a marker line, levels 0-4 across."""
    frs = list(target)
    height = TOP + len(frs) * (BAR + GAP) + 10
    step = (WIDTH - LEFT - 36) / 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="vector-chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="Target and achieved SL-C per foundational requirement">'
    ]
    for level in range(5):
        x = LEFT + level * step
        parts.append(f'<line x1="{x:.0f}" y1="{TOP - 8}" x2="{x:.0f}" y2="{height - 6}" class="grid"/>')
        parts.append(f'<text x="{x:.0f}" y="{TOP - 12}" class="axis" text-anchor="middle">SL {level}</text>')
    for index, fr in enumerate(frs):
        y = TOP + index * (BAR + GAP)
        reached = achieved[fr] >= target[fr]
        parts.append(f'<text x="4" y="{y + BAR * 0.7:.0f}" class="label">{escape(fr)}</text>')
        parts.append(
            f'<rect x="{LEFT}" y="{y}" width="{achieved[fr] * step:.0f}" height="{BAR}" rx="3" '
            f'class="{"bar ok" if reached else "bar short"}"><title>{escape(fr)}: achieved {achieved[fr]}, '
            f"target {target[fr]}</title></rect>"
        )
        tx = LEFT + target[fr] * step
        parts.append(f'<line x1="{tx:.0f}" y1="{y - 4}" x2="{tx:.0f}" y2="{y + BAR + 4}" class="target"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from numbers and escaped FR ids only
