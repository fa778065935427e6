/**
 * The page's one stylesheet and one script, inline (issue 10: a self-contained file, no
 * external requests), and the Content-Security-Policy that allows exactly them by their
 * sha256 hashes — no 'unsafe-inline', so markup that slipped through escaping could not
 * run a script or load anything.
 */
import { createHash } from 'node:crypto';

/** Responsive (cards reflow, tables scroll sideways on a phone), light and dark schemes. */
export const PAGE_CSS = `
:root{color-scheme:light dark;--bg:#f6f7f9;--fg:#1b1f24;--muted:#57606a;--card:#fff;--line:#d0d7de;
--ok:#1a7f37;--okbg:#dafbe1;--warn:#9a6700;--warnbg:#fff8c5;--bad:#cf222e;--badbg:#ffebe9;--info:#0969da;--infobg:#ddf4ff;--grey:#6e7781;--greybg:#eaeef2;--plot:#fbfcfd}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#161b22;--line:#30363d;
--ok:#3fb950;--okbg:#12261e;--warn:#d29922;--warnbg:#272115;--bad:#f85149;--badbg:#2d1517;--info:#58a6ff;--infobg:#121d2f;--grey:#9198a1;--greybg:#21262d;--plot:#0d1117}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--info)}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--card);padding:4px 8px;z-index:1}
header{padding:12px 16px;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:1.4rem;margin:0 0 4px}h2{font-size:1.2rem;margin:0 0 8px}h3{font-size:1rem;margin:12px 0 6px}
main{padding:8px 16px 24px;max-width:1400px;margin:0 auto}
section{margin:16px 0;padding:12px;background:var(--card);border:1px solid var(--line);border-radius:8px}
code{font:0.85em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.statusbar p{margin:2px 0}.statusbar.warn .alerts{margin:6px 0 0;padding:6px 10px 6px 28px;background:var(--badbg);color:var(--fg);border-left:4px solid var(--bad)}
#conn{margin:6px 0 0;padding:6px 10px;background:var(--badbg);border-left:4px solid var(--bad)}
.hint,.meta,.more,.empty{color:var(--muted);font-size:.9em;margin:4px 0}
.glance{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:8px}
.counts{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:6px 14px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(17rem,1fr));gap:10px}
.card{border:1px solid var(--line);border-left:6px solid var(--grey);border-radius:6px;padding:8px 10px}
.card h3{margin:0;display:flex;gap:8px;align-items:center;justify-content:space-between;flex-wrap:wrap}
.card dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:6px 0}
.card dt{color:var(--muted)}.card dd{margin:0;min-width:0}
.card.h-healthy{border-left-color:var(--ok)}.card.h-degraded,.card.h-stale{border-left-color:var(--warn)}
.card.h-grounded{border-left-color:var(--info)}.card.h-offline{border-left-color:var(--bad)}
.badge{display:inline-flex;align-items:center;gap:4px;padding:1px 8px;border-radius:999px;font-size:.85rem;font-weight:600;border:1px solid currentColor}
.badge .icon{width:.8em;height:.8em;fill:currentColor;stroke:currentColor}
.badge.h-healthy{color:var(--ok);background:var(--okbg)}
.badge.h-degraded,.badge.h-stale{color:var(--warn);background:var(--warnbg)}
.badge.h-grounded{color:var(--info);background:var(--infobg)}
.badge.h-offline{color:var(--bad);background:var(--badbg)}
.badge.h-unknown{color:var(--grey);background:var(--greybg)}
meter{width:7rem;height:.9rem;vertical-align:middle}
.fig{font-variant-numeric:tabular-nums}
.note{margin:4px 0;padding:4px 8px;border-radius:4px;background:var(--greybg)}
.note.grounded{background:var(--infobg)}.note.degraded{background:var(--warnbg)}
.scroll{overflow-x:auto}.scroll table{min-width:44rem}th code{white-space:nowrap;word-break:normal}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}
thead th{color:var(--muted);font-weight:600;white-space:nowrap}
tbody th{font-weight:normal}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.st,.res{font-weight:600}.st-running{color:var(--info)}.st-failed,.st-blocked,.r-bad{color:var(--bad)}.st-completed,.r-ok{color:var(--ok)}.st-queued{color:var(--warn)}.st-cancelled,.r-other{color:var(--grey)}
.why{color:var(--fg)}.desc{white-space:pre-wrap;word-break:break-word}.na{color:var(--muted)}
.paused,.alert-inline{color:var(--bad)}.alert-inline{background:var(--badbg);padding:6px 10px;border-radius:4px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:10px}
.chart{margin:0}.chart figcaption{font-size:.85rem;color:var(--muted)}
.chart svg{width:100%;height:auto;display:block}
.plot{fill:var(--plot);stroke:var(--line)}.grid{stroke:var(--line);stroke-dasharray:2 3}
.tick,.empty{fill:var(--muted);font-size:11px}
.pt.ok{fill:var(--ok)}.pt.bad{fill:var(--bad)}.pt.other{fill:var(--grey)}
.legend{list-style:none;padding:0;margin:0 0 6px;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.9rem}
.legend-icon{width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.msg{border-top:1px solid var(--line);padding:6px 0}.msg h3{margin:0}
.msg .body{white-space:pre-wrap;word-break:break-word;margin:4px 0}
.msg.p-urgent h3,.msg.p-high h3{color:var(--bad)}
footer{color:var(--muted);font-size:.85rem;text-align:center;padding:0 16px 24px}
@media (max-width:600px){body{font-size:14px}main{padding:4px 8px 16px}section{padding:8px}meter{width:5rem}}
`;

/**
 * The live page's script: counts ages up every second (from the time the response
 * arrived, by this browser's monotonic clock — no clock of another machine is trusted),
 * and every `data-refresh-ms` fetches `api/sections` and swaps changed sections in place,
 * without reloading. A failed poll is said on the page. Does nothing on a static file.
 */
export const PAGE_JS = `
(function(){"use strict";
var root=document.documentElement;if(root.getAttribute("data-live")!=="true")return;
var every=Number(root.getAttribute("data-refresh-ms"))||5000;var base=performance.now();var last={};var version=0;
var conn=document.getElementById("conn");
function fmt(s){s=Math.max(0,Math.round(s));if(s<60)return s+"s";var m=Math.floor(s/60);if(m<60)return m+"m"+(s%60?" "+(s%60)+"s":"");var h=Math.floor(m/60);if(h<48)return h+"h"+(m%60?" "+(m%60)+"m":"");var d=Math.floor(h/24);return d+"d"+(h%24?" "+(h%24)+"h":"")}
function modelAge(){var b=document.querySelector("[data-model-age-s]");return b?Number(b.getAttribute("data-model-age-s"))||0:0}
function tick(){var extra=(performance.now()-base)/1000;var ma=modelAge();var a=document.querySelectorAll("[data-age-s]");for(var i=0;i<a.length;i++){a[i].textContent=fmt(Number(a[i].getAttribute("data-age-s"))+ma+extra)}
var n=document.querySelectorAll("[data-age-now-s]");for(var j=0;j<n.length;j++){n[j].textContent=fmt(Number(n[j].getAttribute("data-age-now-s"))+extra)}}
function say(text){if(!conn)return;conn.hidden=!text;conn.textContent=text}
function apply(d){var ids=Object.keys(d.sections);for(var i=0;i<ids.length;i++){var id=ids[i];var el=document.getElementById(id);if(el&&last[id]!==d.sections[id]){el.innerHTML=d.sections[id];last[id]=d.sections[id]}}
base=performance.now();version=d.version;root.setAttribute("data-version",String(d.version));tick()}
function poll(){fetch("api/sections",{cache:"no-store",headers:{Accept:"application/json"}}).then(function(r){if(!r.ok)throw new Error("HTTP "+r.status);return r.json()})
.then(function(d){apply(d);say("")},function(err){say("Cannot reach the dashboard server ("+(err&&err.message?err.message:err)+"): the page is not being updated; it shows data as of version "+version+".")})
.then(function(){setTimeout(poll,every)})}
setInterval(tick,1000);setTimeout(poll,every)})();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** CSP source expressions of the inline style and script. */
export const STYLE_HASH = sha256(PAGE_CSS);
export const SCRIPT_HASH = sha256(PAGE_JS);

/**
 * The Content-Security-Policy of the page: nothing from anywhere except the inline style
 * and script (by hash), `data:` images (the empty favicon), and — served live only —
 * `fetch` to the page's own origin.
 * @param live true for the served page (`connect-src 'self'`); false for a static file (no connections)
 * @param meta the `<meta>` form: without `frame-ancestors`, which browsers take only from the header
 */
export function contentSecurityPolicy(live: boolean, meta = false): string {
  return [
    "default-src 'none'", `style-src ${STYLE_HASH}`, `script-src ${SCRIPT_HASH}`, "img-src data:",
    `connect-src ${live ? "'self'" : "'none'"}`, "base-uri 'none'", "form-action 'none'",
    ...(live && !meta ? ["frame-ancestors 'none'"] : []),
  ].join('; ');
}
