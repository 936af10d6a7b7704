/** The benchmark's outputs: a text table, and an SVG chart drawn by hand (no dependency). */
import type { Run } from './orchestrate.ts';

export interface Summary {
  readonly label: string;
  readonly runs: readonly Run[];
  readonly throughput: number;
  readonly cpuUsPerMessage: number;
  readonly endpointCpuUsPerMessage: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly callsPerMessage: number;
  readonly receiveMs: number;
  readonly loopBusy: number;
  readonly peakRssMb: number;
}

export function table(rows: readonly Summary[]): string {
  const header = [
    'run',
    'msg/s (median)',
    'runs msg/s',
    'CPU µs/msg',
    'runs CPU µs/msg',
    'endpoint CPU µs/msg',
    'p50 ms',
    'p99 ms',
    'SQS calls/msg',
    'receive ms',
    'loop busy %',
    'peak RSS MB',
  ];
  const body = rows.map((r) => [
    r.label,
    Math.round(r.throughput).toString(),
    r.runs.map((x) => Math.round(x.throughput)).join(' / '),
    Math.round(r.cpuUsPerMessage).toString(),
    r.runs.map((x) => Math.round(x.cpuUsPerMessage)).join(' / '),
    Math.round(r.endpointCpuUsPerMessage).toString(),
    Math.round(r.p50Ms).toString(),
    Math.round(r.p99Ms).toString(),
    r.callsPerMessage.toFixed(3),
    r.receiveMs.toFixed(1),
    Math.round(r.loopBusy * 100).toString(),
    Math.round(r.peakRssMb).toString(),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

function bars(x: number, y: number, width: number, height: number, title: string, data: ReadonlyArray<[string, number]>): string {
  const max = Math.max(...data.map(([, v]) => v), 1);
  const barHeight = height / data.length - 8;
  const labelWidth = 170;
  const parts = [`<text x="${x}" y="${y - 10}" font-size="15" font-weight="bold">${title}</text>`];
  data.forEach(([label, value], i) => {
    const by = y + i * (barHeight + 8);
    const w = ((width - labelWidth - 80) * value) / max;
    parts.push(
      `<text x="${x}" y="${by + barHeight * 0.7}" font-size="13">${label}</text>`,
      `<rect x="${x + labelWidth}" y="${by}" width="${w.toFixed(1)}" height="${barHeight}" fill="#3b6ea8"/>`,
      `<text x="${x + labelWidth + w + 6}" y="${by + barHeight * 0.7}" font-size="13">${Math.round(value)} msg/s</text>`,
    );
  });
  return parts.join('\n');
}

export function chart(competitors: ReadonlyArray<[string, number]>, scaling: ReadonlyArray<[string, number]>, subtitle: string): string {
  const width = 760;
  const height = 120 + competitors.length * 40 + scaling.length * 40 + 80;
  const second = 80 + competitors.length * 40 + 60;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="24" font-size="13" fill="#555">${subtitle}</text>`,
    bars(20, 70, width - 40, competitors.length * 40, 'Drain throughput per competitor (median)', competitors),
    bars(20, second, width - 40, scaling.length * 40, 'Traffic processor: throughput against pollers', scaling),
    '</svg>',
  ].join('\n');
}
