import { ClusterDetail, ClusterView } from '../clusters/cluster-reader';
import { Page } from '../http/page-cursor';
import { ClusterJob } from '../jobs/job-data';
import { DeadLetterView } from '../operations/dead-letter-log';
import { ParkedItemView } from '../operations/parked-items';
import { href, html, SafeHtml } from './html';

/** What the overview shows of one project (or of the flat layout's one). */
export interface Overview {
  projectId?: string;
  sort: 'size' | 'recent' | 'trending';
  clusters: Page<ClusterView>;
  jobs: ClusterJob[];
  deadLetters: Page<DeadLetterView>;
  parked: Page<ParkedItemView>;
}

/** Where the project layout's picker leads, and which project is shown. */
export interface ProjectChoice {
  projects: string[];
  current?: string;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a{color:#fff;font-weight:600;text-decoration:none}
main{padding:12px 20px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 14px;margin:12px 0}
h1{font-size:18px;margin:0}h2{font-size:16px;margin:4px 0 8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
th{font-weight:600;color:#4a5561;font-size:12px;text-transform:uppercase}
td.n,td.growth{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#6b7683}.pill{background:#e8eef6;border-radius:8px;padding:0 6px;margin-right:3px}
.error{color:#a4262c}nav a{margin-right:10px}
`;

function layout(title: string, choice: ProjectChoice | undefined, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${title}</title>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <style>
          ${new SafeHtml(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <h1><a href="${href('/ui', { project_id: choice?.current })}">Clustering service</a></h1>
          ${choice ? projectPicker(choice) : ''}
        </header>
        <main>${body}</main>
      </body>
    </html>`.text;
}

/** A plain GET form: works without JavaScript. */
function projectPicker({ projects, current }: ProjectChoice): SafeHtml {
  return html`<form method="get" action="/ui" id="project-picker">
    <label
      >Project
      <select name="project_id">
        ${projects.length === 0 ? html`<option value="">(no project seen yet)</option>` : ''}
        ${projects.map((p) => html`<option value="${p}" ${p === current ? html` selected` : ''}>${p}</option>`)}
      </select></label
    >
    <button type="submit">Show</button>
  </form>`;
}

export function projectPickerPage(choice: ProjectChoice): string {
  return layout(
    'Choose a project',
    choice,
    html`<section>
      <p>
        This deployment keeps every project apart (KEY_LAYOUT=project): choose one above, or open
        <code>/ui?project_id=…</code>.
      </p>
    </section>`,
  );
}

export function overviewPage(view: Overview, choice?: ProjectChoice): string {
  const p = view.projectId;
  const withTrend = view.clusters.items.some((c) => trendOf(c) !== undefined);
  const sortLink = (sort: Overview['sort'], label: string) =>
    sort === view.sort
      ? html`<strong>${label}</strong>`
      : html`<a href="${href('/ui', { project_id: p, sort })}">${label}</a>`;
  const next = view.clusters.next_cursor;
  return layout(
    'Operator page',
    choice,
    html`<section id="clusters">
        <h2>Clusters</h2>
        <nav>
          Order by ${sortLink('size', 'size')} ${sortLink('recent', 'last update')}
          ${sortLink('trending', 'trend')}
        </nav>
        ${table(
          ['Title', 'Size', ...(withTrend ? ['Last 7 days'] : []), '24 h', 'Sources', 'Updated'],
          view.clusters.items.map(
            (c) =>
              html`<tr class="cluster">
                <td>
                  <a
                    class="cluster-link"
                    href="${href(`/ui/clusters/${String(c.id)}`, { project_id: p })}"
                    >${text(c.title) || '(untitled)'}</a
                  >
                </td>
                <td class="n">${c.size}</td>
                ${withTrend ? html`<td>${sparkline(trendOf(c))}</td>` : ''}
                <td class="growth">
                  ${typeof c.growth_24h === 'number' ? String(c.growth_24h) : ''}${c.emerging === true ? html` <span class="pill">emerging</span>` : ''}
                </td>
                <td>${sources(c.sources)}</td>
                <td class="muted">${text(c.updated_at)}</td>
              </tr>`,
          ),
          'No clusters yet.',
        )}
        ${next ? html`<p><a href="${href('/ui', { project_id: p, sort: view.sort, cursor: next })}">Next clusters →</a></p>` : ''}
      </section>
      <section id="jobs">
        <h2>Recent jobs</h2>
        ${table(
          ['Job', 'Status', 'Trigger', 'Mode', 'Created', 'Finished', 'Clustered', 'Error'],
          view.jobs.map(
            (j) =>
              html`<tr>
                <td>${j.id}</td>
                <td>${j.status}</td>
                <td>${j.trigger}</td>
                <td>${j.mode}</td>
                <td class="muted">${j.created_at}</td>
                <td class="muted">${j.finished_at}</td>
                <td class="n">${j.stats.clustered_count}</td>
                <td class="error">${j.error}</td>
              </tr>`,
          ),
          'No jobs.',
        )}
      </section>
      <section id="dead-letters">
        <h2>Dead letters</h2>
        <p class="muted">Replay with <code>POST /dead-letters/replay</code> (bearer token).</p>
        ${table(
          ['At', 'Feedback', 'Reason', 'Deliveries'],
          view.deadLetters.items.map(
            (d) =>
              html`<tr>
                <td class="muted">${d.at}</td>
                <td>${d.feedback_id}</td>
                <td class="error">${d.reason}</td>
                <td class="n">${d.deliveries}</td>
              </tr>`,
          ),
          'None.',
        )}
        ${more(view.deadLetters, '/dead-letters', p)}
      </section>
      <section id="parked">
        <h2>Parked items</h2>
        <p class="muted">Release with <code>POST /parked-items/replay</code> (bearer token).</p>
        ${table(
          ['At', 'Feedback', 'Reason'],
          view.parked.items.map(
            (i) =>
              html`<tr>
                <td class="muted">${i.at}</td>
                <td>${i.feedback_id}</td>
                <td class="error">${i.reason}</td>
              </tr>`,
          ),
          'None.',
        )}
        ${more(view.parked, '/parked-items', p)}
      </section>`,
  );
}

export function clusterPage(
  cluster: ClusterDetail,
  projectId?: string,
  choice?: ProjectChoice,
): string {
  const next = cluster.feedback_next_cursor;
  return layout(
    `Cluster ${text(cluster.title)}`,
    choice,
    html`<p><a href="${href('/ui', { project_id: projectId })}">← All clusters</a></p>
      <section id="cluster">
        <h2>${text(cluster.title) || '(untitled)'}</h2>
        ${cluster.redirected_from ? html`<p class="muted">Merged: ${cluster.redirected_from} now lives here.</p>` : ''}
        <p>${text(cluster.summary)}</p>
        <p class="muted">
          ${cluster.size} items · ${sources(cluster.sources)} · updated ${text(cluster.updated_at)}
          · id ${String(cluster.id)}
        </p>
        ${cluster.issue_title ? html`<p>Suggested issue: <strong>${text(cluster.issue_title)}</strong></p>` : ''}
      </section>
      <section id="items">
        <h2>Items</h2>
        ${table(
          ['Title', 'Text', 'Source', 'Created'],
          cluster.feedback.map(
            (f) =>
              html`<tr class="item">
                <td class="item-title">${text(f.title)}</td>
                <td>${excerpt(text(f.body))}</td>
                <td>${text(f.source)}</td>
                <td class="muted">${text(f.created_at)}</td>
              </tr>`,
          ),
          'No items.',
        )}
        ${next ? html`<p><a href="${href(`/ui/clusters/${String(cluster.id)}`, { project_id: projectId, feedback_cursor: next })}">More items →</a></p>` : ''}
      </section>`,
  );
}

export function notFoundPage(what: string, projectId?: string): string {
  return layout(
    'Not found',
    undefined,
    html`<section>
      <p>${what}</p>
      <p><a href="${href('/ui', { project_id: projectId })}">← All clusters</a></p>
    </section>`,
  );
}

function more(page: Page<unknown>, api: string, projectId?: string): SafeHtml | '' {
  return page.next_cursor
    ? html`<p class="muted">
        More: <code>GET ${href(api, { project_id: projectId, cursor: page.next_cursor })}</code>
      </p>`
    : '';
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function excerpt(body: string): string {
  return body.length > 300 ? `${body.slice(0, 300)}…` : body;
}

/** A table of `rows` under `headers`; one row saying `empty` when there are none. */
function table(headers: readonly string[], rows: readonly SafeHtml[], empty: string): SafeHtml {
  return html`<table>
    <thead>
      <tr>
        ${headers.map((h) => html`<th>${h}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${
        rows.length > 0
          ? rows
          : html`<tr>
              <td colspan="${headers.length}" class="muted">${empty}</td>
            </tr>`
      }
    </tbody>
  </table>`;
}

function sources(value: unknown): SafeHtml[] {
  return Array.isArray(value) ? value.map((s) => html`<span class="pill">${text(s)}</span>`) : [];
}

/** A cluster's hourly arrivals over 7 days (`trend`, added by the controller), when it has them. */
function trendOf(cluster: ClusterView): number[] | undefined {
  const trend = cluster.trend;
  return Array.isArray(trend) && trend.length > 1 && trend.every((n) => typeof n === 'number')
    ? trend
    : undefined;
}

/** Inline SVG (no script, no external file): the counts as a polyline. */
function sparkline(counts: number[] | undefined): SafeHtml | '' {
  if (!counts) return '';
  const width = 100;
  const height = 20;
  const top = Math.max(1, ...counts);
  const points = counts
    .map(
      (n, i) =>
        `${((i / (counts.length - 1)) * width).toFixed(1)},${(height - (n / top) * height).toFixed(1)}`,
    )
    .join(' ');
  return html`<svg
    class="sparkline"
    width="${width}"
    height="${height}"
    viewBox="0 0 ${width} ${height}"
  >
    <polyline fill="none" stroke="#1d3557" stroke-width="1.5" points="${points}" />
  </svg>`;
}
