/**
 * Styles of the report page. Made for a phone at 3 a.m.: one column, large type, high contrast,
 * dark when the phone is, nothing wider than the screen (long paths and URLs wrap anywhere).
 */
export const STYLE = `
:root{--bg:#fff;--fg:#111;--muted:#4b5563;--card:#f3f4f6;--line:#d1d5db;
--crit:#dc2626;--warn:#eab308;--unknown:#6b7280;--ok:#16a34a;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0f1115;--fg:#f3f4f6;--muted:#b6bcc6;--card:#1b1f27;--line:#374151}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:18px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;overflow-wrap:anywhere}
.wrap{max-width:46rem;margin:0 auto;padding:0 1rem}
header{border-bottom:8px solid var(--ok);padding:1rem 0 .75rem}
header.s-crit{border-color:var(--crit)}header.s-warn{border-color:var(--warn)}header.s-unknown{border-color:var(--unknown)}
h1{font-size:1.65rem;line-height:1.25;margin:0 0 .3rem}
h2{font-size:1.3rem;margin:1.6rem 0 .5rem}
.meta,.muted{color:var(--muted);font-size:16px}
ul{list-style:none;margin:0;padding:0}
.card{background:var(--card);border-left:8px solid var(--unknown);border-radius:10px;padding:.7rem .9rem;margin:.6rem 0}
.card.s-crit{border-color:var(--crit)}.card.s-warn{border-color:var(--warn)}.card.s-ok{border-color:var(--ok)}
.head{display:flex;flex-wrap:wrap;gap:.2rem .6rem;align-items:baseline}
.host{font-weight:700}
.badge{display:inline-block;font-size:16px;font-weight:800;letter-spacing:.03em;padding:0 .45rem;border-radius:6px;color:#fff;background:var(--unknown)}
.s-crit>.head .badge,.badge.s-crit{background:var(--crit)}
.s-warn>.head .badge,.badge.s-warn{background:var(--warn);color:#111}
.s-ok>.head .badge,.badge.s-ok{background:var(--ok)}
.msg{margin:.35rem 0 0}
code{font:16px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:rgba(127,127,127,.18);padding:0 .2rem;border-radius:4px}
details{border-top:1px solid var(--line);padding:.55rem 0}
summary{cursor:pointer;font-size:18px;padding:.2rem 0}
details ul{margin:.3rem 0 0 .2rem}
details li{padding:.3rem 0;border-bottom:1px solid var(--line)}
details li:last-child{border-bottom:0}
.arrow{font-weight:700;white-space:nowrap}
.rows li{padding:.45rem 0;border-bottom:1px solid var(--line)}
footer{margin:2rem 0 1.5rem}
`;
