"""A video timeline as inline SVG: gold spans as shaded bands, clip windows, one lane per call
(observed instants as ticks, listen windows as bars), coloured by call, and a time axis."""

from __future__ import annotations

from html import escape

from cvr_gym.evaluation.viewer.timeline import VideoTimeline

#: Colours of the calls, in call order (matplotlib's tab10, which stays apart on white).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
GOLD = "#f2c14e"
CLIP = "#5b8def"

WIDTH = 900  # drawing units: about pixels at the width the page gives a timeline
LEFT = 36
RIGHT = 12
LANE = 14
AXIS = 18
TOP = 6


def call_colour(call: int) -> str:
    return PALETTE[call % len(PALETTE)]


def fmt_time(t: float, duration: float) -> str:
    """``12.5 s`` for short videos, ``m:ss`` from two minutes on."""
    if duration < 120:
        return f"{t:.1f} s" if t < 10 and t != int(t) else f"{t:.0f} s"
    m, s = divmod(round(t), 60)
    return f"{m}:{s:02d}"


def _axis_step(duration: float, plot_w: float) -> float:
    """A round step giving axis labels about 70 units apart."""
    most = max(2, int(plot_w // 70))
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration / step <= most:
            return step
    return duration / most


def timeline_svg(tl: VideoTimeline, width: int = WIDTH) -> str:
    """The SVG element of one timeline (``class="timeline"``; ticks ``class="tick"``), ``width``
    units wide (the page picks about the pixels it has, so its text keeps its size)."""
    span = max(tl.duration, 1e-6)
    plot_w = width - LEFT - RIGHT
    lanes = max(1, len(tl.looks))
    clip_h = 6 if tl.clips else 0
    plot_top = TOP + clip_h
    plot_h = lanes * LANE
    height = plot_top + plot_h + AXIS

    def x(t: float) -> float:
        return LEFT + plot_w * min(max(t, 0.0), span) / span

    out = [f'<svg class="timeline" data-video="{tl.video}" viewBox="0 0 {width} {height}" width="100%" '
           f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="timeline of video {tl.video}">']
    out.append(f'<rect x="{LEFT}" y="{plot_top}" width="{plot_w}" height="{plot_h}" class="bg"/>')
    for s, e in tl.clips:
        x0, x1 = x(s), x(e)
        out.append(f'<rect class="clip" x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1.5):.1f}" height="{clip_h + plot_h}">'
                   f'<title>clip window {escape(fmt_time(s, span))} - {escape(fmt_time(e, span))}</title></rect>')
    for s, e in tl.gold:
        x0, x1 = x(s), x(e)
        out.append(f'<rect class="gold" x="{x0 - (1 if x1 - x0 < 2 else 0):.1f}" y="{plot_top}" '
                   f'width="{max(x1 - x0, 2):.1f}" height="{plot_h}"><title>gold evidence {s:.1f}-{e:.1f} s</title></rect>')
    if not tl.looks:
        out.append(f'<text class="none" x="{LEFT + 6}" y="{plot_top + LANE - 3}">not looked at</text>')
    for lane, look in enumerate(tl.looks):
        y0 = plot_top + lane * LANE
        colour = call_colour(look.call)
        attrs = f'data-call="{look.call}" data-step="{look.step}"'
        out.append(f'<text class="lane" x="{LEFT - 4}" y="{y0 + LANE - 3}" {attrs}>{look.step}.{look.call + 1}</text>')
        if look.tool == "listen":
            x0, x1 = x(look.start), x(look.end)
            out.append(f'<rect class="listen" {attrs} x="{x0:.1f}" y="{y0 + 3}" width="{max(x1 - x0, 1.5):.1f}" '
                       f'height="{LANE - 6}" fill="{colour}"><title>step {look.step}, call {look.call + 1}: listen '
                       f'{look.start:.1f}-{look.end:.1f} s</title></rect>')
            continue
        x0, x1 = x(look.start), x(look.end)
        out.append(f'<line class="window" x1="{x0:.1f}" x2="{x1:.1f}" y1="{y0 + LANE / 2:.1f}" y2="{y0 + LANE / 2:.1f}" '
                   f'stroke="{colour}"/>')
        for i, t in enumerate(look.times):
            req = look.requested[i] if i < len(look.requested) else t
            note = f" (asked {req:.2f} s)" if abs(req - t) > 5e-4 else ""
            out.append(f'<line class="tick" {attrs} x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y0 + 1}" y2="{y0 + LANE - 1}" '
                       f'stroke="{colour}"><title>step {look.step}, call {look.call + 1}: frame at {t:.2f} s{note}</title></line>')
    axis_y = plot_top + plot_h
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{axis_y}" y2="{axis_y}"/>')
    step = _axis_step(span, plot_w)
    t = 0.0
    while t <= span + 1e-9:
        out.append(f'<line class="axis" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{axis_y}" y2="{axis_y + 3}"/>'
                   f'<text class="axis" x="{x(t):.1f}" y="{axis_y + 13}">{escape(fmt_time(t, span))}</text>')
        t += step
    out.append("</svg>")
    return "".join(out)
