// The report's chart: one panel of horizontal bars per unit, drawn as plain SVG so the
// bench needs no charting library and the file diffs as text.
import { formatNumber, type ChartPanel, type Figure } from './report-model.ts';

const PANELS: Record<ChartPanel, string> = {
  messages: 'Messages per second (higher is better)',
  latency: 'Latency at the offered rate, ms (lower is better)',
  requests: 'Requests per second (higher is better)',
  memory: 'Resident memory per idle socket, KiB (lower is better)',
};

const WIDTH = 860;
const LABEL_WIDTH = 380;
const BAR_AREA = 340;
const ROW = 22;
const BAR = 14;
const TITLE = 28;
const GAP = 18;

const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// Markdown code spans in labels read as plain text in a picture.
const plain = (label: string) => label.replace(/`/g, '');

export function renderChart(figures: Figure[], subtitle: string): string {
  const parts: string[] = [];
  let y = 36;
  parts.push(`<text x="12" y="22" class="title">Parley benchmark — ${escapeXml(subtitle)}</text>`);
  for (const [panel, title] of Object.entries(PANELS) as [ChartPanel, string][]) {
    const rows = figures.filter((f) => f.chart === panel && Number.isFinite(f.value));
    if (rows.length === 0) continue;
    const max = Math.max(...rows.map((f) => f.value), Number.MIN_VALUE);
    y += GAP;
    parts.push(`<text x="12" y="${y}" class="panel">${escapeXml(title)}</text>`);
    y += TITLE - 14;
    for (const f of rows) {
      const width = Math.max(1, (f.value / max) * BAR_AREA);
      parts.push(
        `<text x="${LABEL_WIDTH - 8}" y="${y + BAR - 3}" class="label" text-anchor="end">${escapeXml(plain(f.label))}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" class="bar ${panel}"/>`,
        `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + BAR - 3}" class="value">${escapeXml(`${formatNumber(f.value)} ${f.unit}`)}</text>`,
      );
      y += ROW;
    }
  }
  const height = y + GAP;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    '<style>',
    '.title{font-size:15px;font-weight:bold}.panel{font-size:13px;font-weight:bold}.label,.value{font-size:12px}',
    '.bar.messages{fill:#3b6ea8}.bar.latency{fill:#c0713a}.bar.requests{fill:#4b8f4b}.bar.memory{fill:#7a5ca8}',
    '</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
