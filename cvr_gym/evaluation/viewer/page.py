"""The episode viewer page: one self-contained HTML file (inline CSS, JS and SVG; thumbnails as
data URIs; nothing fetched from anywhere).

Episodes of several runs are aligned per task (the k-th episode of a task in one run beside the
k-th of the same task in the others). Over more than one task the page opens with a summary:
per run and family the mean score, frames and look distance, and every episode sorted by look
distance (see :mod:`~cvr_gym.evaluation.viewer.timeline`). Every text from a results file or a
task is escaped: task text and agent output are untrusted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from html import escape
from typing import Any

from cvr_gym.evaluation.viewer.model import EpisodeView, Run, TaskLookup
from cvr_gym.evaluation.viewer.svg import (
    CLIP,
    GOLD,
    call_colour,
    fmt_time,
    timeline_svg,
)
from cvr_gym.evaluation.viewer.timeline import (
    LookDistance,
    VideoTimeline,
    episode_timelines,
    look_distance,
)


@dataclass
class Cell:
    """One run's episode of a task, with its timelines and look distance."""

    episode: EpisodeView
    timelines: list[VideoTimeline]
    distance: LookDistance


@dataclass
class TaskRow:
    """One task (one occurrence of it) across the runs: a cell per run, ``None`` where a run lacks it."""

    anchor: str
    task_id: str
    family: str
    task: Any | None
    cells: list[Cell | None]


def align(runs: list[Run], lookup: TaskLookup) -> list[TaskRow]:
    """Rows of episodes aligned per task: the k-th episode of a task in each run share a row."""
    order: list[tuple[str, int]] = []
    slots: dict[tuple[str, int], list[Cell | None]] = {}
    tasks: dict[tuple[str, int], Any] = {}
    for r, run in enumerate(runs):
        seen: dict[str, int] = defaultdict(int)
        for ep in run.episodes:
            key = (ep.task_id, seen[ep.task_id])
            seen[ep.task_id] += 1
            if key not in slots:
                order.append(key)
                slots[key] = [None] * len(runs)
            task = lookup.get(ep)
            if task is not None:
                tasks[key] = task
            timelines = episode_timelines(ep, task)
            slots[key][r] = Cell(ep, timelines, look_distance(timelines))
    rows = []
    for n, key in enumerate(order):
        family = next(c.episode.family for c in slots[key] if c is not None)
        rows.append(TaskRow(f"t{n}", key[0], family, tasks.get(key), slots[key]))
    return rows


# -- small formatters -----------------------------------------------------------------------------

def _num(value: Any, fmt: str = "{:.3f}") -> str:
    return "-" if value is None else fmt.format(value)


def answer_text(value: Any, answer_type: str | None = None) -> str:
    if value is None:
        return "(no answer)"
    if answer_type == "interval" and isinstance(value, (list, tuple)) and len(value) == 2:
        try:
            return f"{float(value[0]):.1f}-{float(value[1]):.1f} s"
        except (TypeError, ValueError):
            pass
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _score_class(score: float | None) -> str:
    if score is None:
        return "s-none"
    return "s-good" if score >= 0.99 else ("s-part" if score > 0 else "s-bad")


def _call_text(call: dict[str, Any]) -> str:
    name = str(call.get("name", "?"))
    args = call.get("arguments")
    args = args if isinstance(args, dict) else {}
    if name == "observe":
        targets = "; ".join(f"video {t.get('video')} {_sec(t.get('start'))}-{_sec(t.get('end'))} s x{t.get('num_frames')}"
                            for t in args.get("targets") or [] if isinstance(t, dict))
        focus = f' focus "{args["focus"]}"' if args.get("focus") else ""
        return f"observe {targets}{focus}"
    if name == "listen":
        focus = f' focus "{args["focus"]}"' if args.get("focus") else ""
        return f"listen video {args.get('video')} {_sec(args.get('start'))}-{_sec(args.get('end'))} s{focus}"
    if name == "answer":
        return f"answer {json.dumps(args.get('answer'), ensure_ascii=False)}"
    return f"{name} {json.dumps(args, ensure_ascii=False)}"


def _sec(v: Any) -> str:
    try:
        return f"{float(v):g}"
    except (TypeError, ValueError):
        return str(v)


# -- sections -------------------------------------------------------------------------------------

def _task_header(row: TaskRow) -> str:
    task = row.task
    parts = [f'<h2><span class="fam">{escape(row.family)}</span> {escape(row.task_id)}</h2>']
    if task is None:
        parts.append('<p class="warn">task not found in its suite: no question, gold answer or evidence spans '
                     '(pass --suite)</p>')
        return "".join(parts)
    parts.append(f'<p class="question">{escape(task.question)}</p>')
    if task.options:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        parts.append('<ol class="options">' + "".join(
            f'<li><b>{letters[i]}</b> {escape(o)}</li>' for i, o in enumerate(task.options)) + "</ol>")
    gold = answer_text(task.answer, task.answer_type)
    if task.answer_type == "interval" and task.answer_video:
        gold += f" in video {task.answer_video}"
    parts.append(f'<p class="gold-answer">gold answer ({escape(task.answer_type)}): <b>{escape(gold)}</b></p>')
    spans = ", ".join(f"video {s.video} {s.start:.1f}-{s.end:.1f} s" for s in task.evidence)
    parts.append(f'<p class="spans"><span class="swatch gold"></span> evidence: {escape(spans or "none given")}</p>')
    return "".join(parts)


def _cell(cell: Cell | None, run: Run, task: Any | None, open_transcript: bool, width: int) -> str:
    if cell is None:
        return f'<div class="cell empty"><h3>{escape(run.label)}</h3><p>not in this run</p></div>'
    ep = cell.episode
    answer_type = task.answer_type if task is not None else None
    out = [f'<div class="cell" data-run="{escape(run.label)}">',
           f'<h3>{escape(run.label)} <span class="epno">episode {ep.index}</span></h3>',
           f'<p class="result"><span class="score {_score_class(ep.score)}">score {_num(ep.score)}</span> '
           f'answer <b>{escape(answer_text(ep.answer, answer_type))}</b>']
    if task is not None:
        out.append(f' · gold <b>{escape(answer_text(task.answer, answer_type))}</b>')
    if ep.termination_reason:
        out.append(f' · ended by {escape(str(ep.termination_reason))}')
    out.append("</p>")
    if ep.error:
        out.append(f'<p class="warn">agent error: {escape(ep.error)}</p>')
    costs = ep.costs
    cost_bits = [f"{ep.frames} frames"]
    for key, label, fmt in (("visual_tokens", "visual tokens", "{:,.0f}"), ("audio_seconds", "audio s", "{:.1f}"),
                            ("latency_s", "modelled latency s", "{:.1f}"), ("steps", "steps", "{:.0f}"),
                            ("tool_calls", "calls", "{:.0f}")):
        if costs.get(key) is not None:
            cost_bits.append(f"{fmt.format(costs[key])} {label}")
    out.append(f'<p class="costs">{escape(" · ".join(cost_bits))}</p>')
    if ep.reward_components:
        comps = " · ".join(f"{k} {v:+.3f}" for k, v in ep.reward_components.items() if isinstance(v, (int, float)))
        out.append(f'<p class="costs">reward: {escape(comps)}</p>')
    d = cell.distance
    if d.spans:
        out.append(f'<p class="costs">look distance {d.mean_gap_s:.1f} s · evidence spans: {d.spans_seen}/{d.spans} '
                   f'seen, {d.spans_heard}/{d.spans} heard</p>')
    if ep.reconstructed:
        out.append('<p class="warn">looks rebuilt from the tool calls (the record predates recorded looks)</p>')
    for tl in cell.timelines:
        out.append(f'<div class="tl"><div class="tl-title">video {tl.video} · {escape(fmt_time(tl.duration, tl.duration))}'
                   f' · {tl.ticks} frames</div>{timeline_svg(tl, width)}')
        thumbs = [(t, src, look) for look in tl.looks for t, src in zip(look.times, look.thumbnails)]
        if thumbs:
            out.append('<div class="thumbs">' + "".join(
                f'<img src="{escape(src)}" alt="frame at {t:.2f} s" title="step {look.step}, call {look.call + 1}: '
                f'{t:.2f} s" style="border-color:{call_colour(look.call)}">'
                for t, src, look in sorted(thumbs, key=lambda x: x[0])) + "</div>")
        out.append("</div>")
    out.append(_transcript(ep, open_transcript))
    out.append("</div>")
    return "".join(out)


def _transcript(ep: EpisodeView, open_: bool) -> str:
    out = [f'<details class="transcript"{" open" if open_ else ""}><summary>transcript: {len(ep.steps)} steps</summary><ol>']
    for step in ep.steps:
        calls = " ".join(str(step.first_call + n) for n in range(len(step.tool_calls)))
        out.append(f'<li class="step" data-calls="{calls}">')
        head = [f"step {step.number}"]
        if step.reward is not None:
            head.append(f"reward {step.reward:+.3f}")
        comps = [f"{k} {v:+.3f}" for k, v in step.reward_components.items() if isinstance(v, (int, float)) and v]
        if comps:
            head.append("(" + ", ".join(comps) + ")")
        out.append(f'<div class="step-head">{escape(" · ".join(head))}</div>')
        if step.parse_error:
            out.append(f'<div class="warn">invalid action: {escape(step.parse_error)}</div>')
        for n, call in enumerate(step.tool_calls):
            g = step.first_call + n
            out.append(f'<div class="call"><span class="swatch" style="background:{call_colour(g)}"></span>'
                       f'<b>{step.number}.{g + 1}</b> {escape(_call_text(call))}</div>')
        if step.call_costs:
            costs = "; ".join(
                f"{c['tool']}: {c.get('frames', 0):.0f} frames, {c.get('audio_seconds', 0):.1f} audio s, "
                f"{c.get('latency_s', 0):.2f} s" for c in step.call_costs)
            out.append(f'<div class="cost">cost: {escape(costs)}</div>')
        if step.observation:
            out.append(f'<pre class="obs">{escape(step.observation)}</pre>')
        out.append("</li>")
    out.append("</ol></details>")
    return "".join(out)


def _summary(runs: list[Run], rows: list[TaskRow], links: bool = True) -> str:
    out = ['<section class="summary"><h2>Summary</h2>']
    out.append('<p class="note">Look distance: per gold evidence span, 0 when a frame was seen inside it, '
               'otherwise the gap in seconds to the nearest frame seen on that video (the video\'s length if '
               'none was); averaged over the task\'s spans. Seen: spans with a frame inside; heard: spans a '
               'listen window overlapped.</p>')
    for r, run in enumerate(runs):
        fams: dict[str, list[Cell]] = defaultdict(list)
        for row in rows:
            cell = row.cells[r]
            if cell is not None:
                fams[row.family].append(cell)
                fams["ALL"].append(cell)
        out.append(f'<h3>{escape(run.label)} <span class="src">{escape(run.source)}</span></h3>'
                   '<table class="fam-table"><tr><th>family</th><th>n</th><th>score</th><th>frames</th>'
                   '<th>look distance s</th><th>spans seen</th><th>spans heard</th></tr>')
        for fam in sorted(fams, key=lambda f: (f == "ALL", f)):
            cells = fams[fam]
            scores = [c.episode.score or 0.0 for c in cells]
            dists = [c.distance.mean_gap_s for c in cells if c.distance.mean_gap_s is not None]
            spans = sum(c.distance.spans for c in cells)
            seen = sum(c.distance.spans_seen for c in cells)
            heard = sum(c.distance.spans_heard for c in cells)
            out.append(f'<tr class="{"all" if fam == "ALL" else ""}"><td>{escape(fam)}</td><td>{len(cells)}</td>'
                       f'<td>{sum(scores) / len(scores):.3f}</td>'
                       f'<td>{sum(c.episode.frames for c in cells) / len(cells):.1f}</td>'
                       f'<td>{_num(sum(dists) / len(dists) if dists else None, "{:.1f}")}</td>'
                       f'<td>{_num(seen / spans if spans else None, "{:.2f}")}</td>'
                       f'<td>{_num(heard / spans if spans else None, "{:.2f}")}</td></tr>')
        out.append("</table>")
    ranked = [(row, r, c) for row in rows for r, c in enumerate(row.cells) if c is not None]
    ranked.sort(key=lambda x: (x[2].distance.mean_gap_s is None, -(x[2].distance.mean_gap_s or 0.0),
                               x[2].distance.seen_share or 0.0))
    out.append('<h3>Episodes by look distance (furthest first)</h3><table class="rank"><tr><th>#</th><th>task</th>'
               '<th>family</th><th>run</th><th>score</th><th>look distance s</th><th>spans seen</th><th>spans heard</th>'
               '<th>frames</th></tr>')
    for n, (row, r, c) in enumerate(ranked, start=1):
        d = c.distance
        task = f'<a href="#{row.anchor}">{escape(row.task_id)}</a>' if links else escape(row.task_id)
        out.append(f'<tr><td>{n}</td><td>{task}</td><td>{escape(row.family)}</td>'
                   f'<td>{escape(runs[r].label)}</td><td class="{_score_class(c.episode.score)}">{_num(c.episode.score)}</td>'
                   f'<td>{_num(d.mean_gap_s, "{:.1f}")}</td><td>{f"{d.spans_seen}/{d.spans}" if d.spans else "-"}</td>'
                   f'<td>{f"{d.spans_heard}/{d.spans}" if d.spans else "-"}</td>'
                   f'<td>{c.episode.frames}</td></tr>')
    out.append("</table></section>")
    return "".join(out)


CSS = """
:root{--gold:%(gold)s;--clip:%(clip)s}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:16px 20px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:8px 0 4px}h3{font-size:14px;margin:4px 0}
.src,.epno{color:#777;font-weight:normal;font-size:12px}
.legend{font-size:12px;color:#555;margin:4px 0 12px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.swatch.gold{background:var(--gold);opacity:.6}.swatch.clip{background:var(--clip);opacity:.35}
.task{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;margin:14px 0}
.fam{background:#333;color:#fff;border-radius:3px;padding:0 5px;font-size:12px;vertical-align:2px}
.question{margin:2px 0 4px}.options{margin:0 0 4px;padding-left:18px;columns:2;font-size:13px}
.options li{list-style:none}.gold-answer,.spans{margin:2px 0;font-size:13px}
.cols{display:grid;gap:14px;margin-top:8px}
.cell{border-top:3px solid #ccc;padding-top:4px;min-width:0}.cell.empty{color:#999}
.result,.costs{margin:2px 0;font-size:13px}.costs{color:#555}
.score{border-radius:3px;padding:0 5px;font-weight:600}
.s-good{background:#d8f0d8}.s-part{background:#fbeec8}.s-bad{background:#f6d3d3}.s-none{background:#eee}
.warn{color:#a33;font-size:12px;margin:2px 0}
.tl{margin:6px 0 2px}.tl-title{font-size:12px;color:#444}
svg.timeline{display:block;max-width:%(width)spx;font-size:10px}
svg .bg{fill:#f3f3f3}svg .gold{fill:var(--gold);opacity:.55}
svg .clip{fill:var(--clip);opacity:.13;stroke:var(--clip);stroke-dasharray:3 2;stroke-opacity:.7}
svg .tick{stroke-width:2}svg .window{stroke-width:1;opacity:.35}svg .listen{opacity:.55}
svg text.lane{text-anchor:end;fill:#555}svg text.axis{text-anchor:middle;fill:#666}svg line.axis{stroke:#999}
svg text.none{fill:#999;font-style:italic}
body.hl-on svg .tick,body.hl-on svg .listen{opacity:.15}
body.hl-on svg .tick.hl{opacity:1;stroke-width:3}body.hl-on svg .listen.hl{opacity:.9}
.thumbs{display:flex;flex-wrap:nowrap;overflow-x:auto;gap:2px;margin:3px 0 0 0;padding-bottom:2px}
.thumbs img{height:30px;border:2px solid #ccc;border-radius:2px;flex:none}
.thumbs img:hover{height:90px}
details.transcript{margin-top:6px}details.transcript summary{cursor:pointer;color:#245}
.transcript ol{padding-left:0;list-style:none;margin:4px 0}
.step{border-left:3px solid #ddd;padding:2px 8px;margin:4px 0}.step:hover{border-left-color:#245;background:#f4f8fc}
.step-head{font-size:12px;color:#555}.call{font-size:13px;word-break:break-word}.cost{font-size:12px;color:#777}
pre.obs{white-space:pre-wrap;word-break:break-word;font-size:11.5px;background:#f6f6f6;padding:4px 6px;margin:3px 0;
max-height:260px;overflow:auto}
table{border-collapse:collapse;font-size:13px;margin:4px 0 10px}th,td{border-bottom:1px solid #e3e3e3;padding:2px 8px;text-align:right}
th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}tr.all td{font-weight:600}
.rank td:nth-child(3),.rank td:nth-child(4),.rank th:nth-child(3),.rank th:nth-child(4){text-align:left}
.note{font-size:12px;color:#555;max-width:900px}
#viewer-status{font-size:11px;color:#999;margin-top:20px}
""" % {"gold": GOLD, "clip": CLIP, "width": 1000}

# Reports script errors and what rendered into #viewer-status (headless browsers read it back),
# and highlights a step's ticks while the pointer is over the step in a transcript.
SCRIPT_HEAD = """
window.addEventListener('error',function(e){var s=document.getElementById('viewer-status');
if(s){s.dataset.state='error';s.textContent='script error: '+e.message;}});
"""
SCRIPT_BODY = """
(function(){
var s=document.getElementById('viewer-status');
document.querySelectorAll('.cell').forEach(function(cell){
  cell.querySelectorAll('li.step').forEach(function(li){
    var calls=li.dataset.calls.split(' ').filter(Boolean);
    li.addEventListener('mouseenter',function(){document.body.classList.add('hl-on');
      calls.forEach(function(c){cell.querySelectorAll('[data-call="'+c+'"]').forEach(function(el){el.classList.add('hl');});});});
    li.addEventListener('mouseleave',function(){document.body.classList.remove('hl-on');
      cell.querySelectorAll('.hl').forEach(function(el){el.classList.remove('hl');});});
  });
});
var tl=document.querySelectorAll('svg.timeline').length,ticks=document.querySelectorAll('svg.timeline .tick').length,
gold=document.querySelectorAll('svg.timeline rect.gold').length;
s.dataset.timelines=tl;s.dataset.ticks=ticks;s.dataset.gold=gold;
if(s.dataset.state!=='error'){s.dataset.state='ok';
s.textContent='rendered '+tl+' timelines, '+ticks+' observed instants, '+gold+' gold spans';}
})();
"""


def render_page(runs: list[Run], lookup: TaskLookup | None = None, title: str | None = None,
                summary: bool | None = None, open_transcripts: bool | None = None, episodes: bool = True) -> str:
    """The HTML page of ``runs`` (aligned per task). ``summary`` defaults to more than one task;
    transcripts are open when one task is shown; ``episodes=False`` leaves the episodes out."""
    lookup = lookup or TaskLookup()
    rows = align(runs, lookup)
    summary = len(rows) > 1 if summary is None else summary
    open_transcripts = len(rows) == 1 if open_transcripts is None else open_transcripts
    title = title or " vs ".join(run.label for run in runs)
    cols = f"grid-template-columns:repeat({max(1, len(runs))},minmax(0,1fr))"
    width = {1: 900, 2: 560}.get(len(runs), 420)  # about the pixels a column gets on a laptop screen
    body = [f"<h1>{escape(title)}</h1>",
            f'<p class="src">{escape(", ".join(dict.fromkeys(run.source for run in runs)))} · {len(rows)} task(s)</p>',
            '<p class="legend"><span class="swatch gold"></span>gold evidence span '
            '<span class="swatch clip"></span>clip window &nbsp; one lane per call (step.call): '
            'ticks = frames seen, bars = listen windows, coloured by call; hover a step to pick out its calls</p>']
    for problem in lookup.problems:
        body.append(f'<p class="warn">{escape(problem)}</p>')
    if summary:
        body.append(_summary(runs, rows, links=episodes))
    for row in rows if episodes else ():
        body.append(f'<section class="task" id="{row.anchor}">{_task_header(row)}<div class="cols" style="{cols}">')
        body.extend(_cell(cell, runs[r], row.task, open_transcripts, width) for r, cell in enumerate(row.cells))
        body.append("</div></section>")
    body.append('<div id="viewer-status" data-state="loading">rendering</div>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{CSS}</style><script>{SCRIPT_HEAD}</script></head>"
            f"<body>{''.join(body)}<script>{SCRIPT_BODY}</script></body></html>\n")
