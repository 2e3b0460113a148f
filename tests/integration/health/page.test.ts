import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthCheckSpec } from '../../../src/config/schema.ts';
import { type HttpServer, startHttpServer } from '../../../src/daemon/http.ts';
import { judge } from '../../../src/health/checks/backup-freshness.ts';
import { buildReport, type Report } from '../../../src/health/report.ts';
import { silentLogger } from '../../../src/log.ts';
import { sampleFleet } from '../../fixtures/health/sample-run.ts';
import { hasCommand, missing } from '../../fixtures/require.ts';

const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshots go; look at them when changing the page. */
const SHOTS = join(tmpdir(), 'bo-health-screenshots');

function fleetReport(): Report {
  const run = sampleFleet();
  const spec = HealthCheckSpec.parse({ check: 'backup-freshness' }) as Extract<
    HealthCheckSpec,
    { check: 'backup-freshness' }
  >;
  for (const b of run.backups) {
    const r = judge({ ...b, schedule: '0 2 * * *' }, spec, new Date(run.finishedAt));
    run.hosts.find((h) => h.host === b.host)!.results.unshift(r);
  }
  const previous = new Map([
    ['files1\0disk\0/srv/share/departments/engineering/builds', 'warn' as const],
    ['mx2\0reachable\0', 'ok' as const],
    ['web2\0disk\0/', 'crit' as const],
  ]);
  return buildReport(run, { at: '2025-11-21T03:00:00.000Z', statuses: previous });
}

interface Measured {
  scrollWidth: number;
  innerWidth: number;
  minFont: number;
  h1: string;
  h1Font: number;
  firstCards: string[];
}

/** Runs in the page (a string: the project compiles without DOM types). */
const MEASURE = `(() => {
  const sizes = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
    if (own && el.offsetParent !== null) sizes.push(parseFloat(getComputedStyle(el).fontSize));
  }
  const h1 = document.querySelector('h1');
  const cards = [...document.querySelectorAll('main > ul:first-of-type > li .badge')].map((b) => b.textContent);
  return {
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth,
    minFont: Math.min(...sizes),
    h1: h1.textContent,
    h1Font: parseFloat(getComputedStyle(h1).fontSize),
    firstCards: cards.slice(0, 3),
  };
})()`;

let server: HttpServer | undefined;
let browser: BrowserContext | undefined;
let profile: string | undefined;
let skipped: string | undefined;

beforeAll(async () => {
  const report = fleetReport();
  server = await startHttpServer({
    listen: { host: '127.0.0.1', port: 0 },
    getReport: () => report,
    registry: new Registry(),
    log: silentLogger(),
  });
  skipped = missing('chromium', hasCommand(CHROMIUM), 'Debian package chromium');
  if (skipped) return;
  profile = mkdtempSync(join(tmpdir(), 'bo-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('the daemon HTTP server', () => {
  it('serves /healthz, /metrics (Prometheus text) and the report page', async () => {
    const base = server!.url;
    const health = await fetch(`${base}healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    const metrics = await fetch(`${base}metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toContain('bo_health_status{host="mx2",check="reachable",subject=""} 2');
    expect(text).toContain('bo_health_checks{status="crit"} 3');
    expect(text).toContain('bo_health_overall_status 2');
    const page = await fetch(base);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<meta http-equiv="refresh" content="60">');
    expect((await fetch(`${base}nope`)).status).toBe(404);
    expect((await fetch(base, { method: 'POST' })).status).toBe(405);
  });
});

describe('the report page in headless Chromium', () => {
  for (const [name, width, height, scheme] of [
    ['phone', 390, 844, 'dark'],
    ['phone-light', 390, 844, 'light'],
    ['desktop', 1280, 900, 'light'],
  ] as const) {
    it(`reads well at ${width}px (${scheme}): no sideways scrolling, no small text, worst first`, async ({
      skip,
    }) => {
      if (skipped || !browser) return skip();
      const page = await browser.newPage();
      try {
        await page.setViewportSize({ width, height });
        await page.emulateMedia({ colorScheme: scheme });
        await page.goto(server!.url);
        const m = (await page.evaluate(MEASURE)) as Measured;
        await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
        await page.screenshot({ path: join(SHOTS, `${name}-full.png`), fullPage: true });
        expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
        expect(m.minFont).toBeGreaterThanOrEqual(15);
        expect(m.h1Font).toBeGreaterThanOrEqual(24);
        expect(m.h1).toBe('3 crit, 4 warn, 1 unknown on 14 hosts');
        expect(m.firstCards).toEqual(['CRIT', 'CRIT', 'CRIT']);
      } finally {
        await page.close();
      }
    });
  }
});

describe('the HTTP server lifecycle', () => {
  it('a second server on the same registry replaces the gauges; aborting the signal closes it', async () => {
    const registry = new Registry();
    const first = await startHttpServer({
      listen: { host: '127.0.0.1', port: 0 },
      getReport: () => undefined,
      registry,
      log: silentLogger(),
    });
    const ac = new AbortController();
    const report = fleetReport();
    const second = await startHttpServer({
      listen: { host: '127.0.0.1', port: 0 },
      getReport: () => report,
      registry,
      log: silentLogger(),
      signal: ac.signal,
    });
    await first.close();
    expect(await (await fetch(`${second.url}metrics`)).text()).toContain('bo_health_checks{status="warn"} 4');
    ac.abort();
    await second.close();
    await expect(fetch(`${second.url}healthz`)).rejects.toThrow();
    // Before any report: the page says so instead of failing.
    const empty = await startHttpServer({
      listen: { host: '127.0.0.1', port: 0 },
      getReport: () => undefined,
      registry,
      log: silentLogger(),
    });
    expect(await (await fetch(empty.url)).text()).toContain('No health report yet');
    await empty.close();
  });
});
