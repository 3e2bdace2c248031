"""The report page's inline style sheet (no fonts, no network)."""

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg2:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:#fff;
       font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width:1100px; margin:0 auto; padding:24px 28px 64px; }
h1 { font-size:1.7em; margin:0 0 .3em; }
h2 { font-size:1.35em; margin:2em 0 .6em; padding-bottom:.25em; border-bottom:2px solid var(--line); }
h3 { font-size:1.12em; margin:0 0 .4em; }
h4 { font-size:1em; margin:.2em 0 .5em; word-break:break-all; }
a { color:#0969da; text-decoration:none; } a:hover { text-decoration:underline; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.88em; }
pre { background:var(--bg2); border:1px solid var(--line); border-radius:6px; padding:8px 10px;
      overflow-x:auto; white-space:pre-wrap; word-break:break-word; margin:.4em 0; }
table { border-collapse:collapse; margin:.5em 0 1em; width:100%; font-size:.9em; }
/* break-word (not anywhere) leaves a column's minimum width at its longest word, so a short
   column such as "expected" keeps its words whole; long code tokens may still break anywhere */
th, td { border:1px solid var(--line); padding:4px 8px; text-align:left; vertical-align:top;
         overflow-wrap:break-word; }
td code, td .mono { overflow-wrap:anywhere; }
td.nw, th.nw { white-space:nowrap; }
td.id code { overflow-wrap:normal; }   /* claim ids break at their hyphens only */
td .sub { display:block; white-space:normal; color:var(--muted); font-size:.88em; min-width:12em; }
th { background:var(--bg2); font-weight:600; }
td.n { text-align:right; font-variant-numeric: tabular-nums; }
.zero { color:#b0b8c1; }
.prov { color:var(--muted); font-size:.9em; margin:.2em 0; padding-left:1.2em; }
.badge { display:inline-block; padding:1px 9px; border-radius:10px; font-size:.82em; font-weight:600;
         white-space:nowrap; border:1px solid transparent; }
.v-verified { background:#1a7f37; color:#fff; }
.v-corrected { background:#0969da; color:#fff; }
.v-refuted { background:#8250df; color:#fff; }
.v-inconclusive { background:#d4a72c; color:#1f2328; }
.v-cited { background:#6e7781; color:#fff; }
.v-failed, .v-error { background:#cf222e; color:#fff; }
.v-partial { background:#fff8c5; color:#7d4e00; border-color:#d4a72c; }
.v-not-run, .v-not-yet-checked { background:#eaeef2; color:#59636e; border-color:#d1d9e0; }
.o-passed { color:#1a7f37; font-weight:600; } .o-failed, .o-error { color:#cf222e; font-weight:600; }
.o-skipped { color:#59636e; font-weight:600; }
.surprise { background:#fff1e5; color:#bc4c00; border:1px solid #bc4c00; }
.stale { background:#fff8c5; color:#7d4e00; border:1px solid #d4a72c; }
.fail { color:#cf222e; font-weight:600; } .pass { color:#1a7f37; }
.claim { border:1px solid var(--line); border-radius:8px; padding:14px 18px; margin:1.2em 0; }
.claim.is-surprise { border-left:5px solid #bc4c00; }
.meta { color:var(--muted); font-size:.9em; margin:.1em 0 .6em; }
blockquote { margin:.5em 0; padding:.2em 1em; border-left:4px solid var(--line); color:#33393f;
             background:#fbfcfd; }
details { margin:.4em 0; } summary { cursor:pointer; font-weight:600; }
.verdict { margin:.6em 0; font-size:1.02em; }
.check { border-top:1px dashed var(--line); margin-top:.9em; padding-top:.7em; }
blockquote p, details p { margin:.35em 0; } li { margin:.15em 0; }
.cmeta { margin:.2em 0 .6em; font-size:.9em; color:#33393f; }
figure { margin:.6em 0; display:inline-block; max-width:100%; vertical-align:top; }
figure img { max-width:100%; height:auto; border:1px solid var(--line); }
figcaption { font-size:.85em; color:var(--muted); }
.missing { color:#9a6700; font-style:italic; }
.pending { background:var(--bg2); border-radius:6px; padding:6px 12px; }
.legend { border:1px solid var(--line); border-radius:8px; padding:6px 14px; background:#fbfcfd; }
.legend dt { float:left; clear:left; width:9.5em; margin:.25em 0; }
.legend dd { margin:.25em 0 .25em 10em; }
.sidebyside { display:grid; grid-template-columns:1fr 1fr; gap:12px; margin:.6em 0; }
.sidebyside > div { border:1px solid var(--line); border-radius:6px; padding:8px 12px; }
.sidebyside h5 { margin:0 0 .3em; font-size:.95em; }
.partial-note { background:#fff8c5; border-radius:6px; padding:6px 12px; }
"""
