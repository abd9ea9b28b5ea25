// The Grafana dashboard (deploy/grafana/gp-consult.json) queries metrics by name and service: each
// service's metrics test checks its scrape exports every one the dashboard asks of it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const dashboardFile = new URL('../../deploy/grafana/gp-consult.json', import.meta.url);

/** Every query of the dashboard, as written. */
export function dashboardQueries(): string[] {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
}

/** The metric names (selectors with a `service` label) the dashboard queries of one service. */
export function dashboardMetrics(service: string): string[] {
  const names = new Set<string>();
  for (const expr of dashboardQueries())
    for (const [, name, labels] of expr.matchAll(/([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g))
      if (labels?.includes(`service="${service}"`)) names.add(name!);
  return [...names];
}

/** Fails naming each metric the dashboard queries of `service` that this scrape does not export. */
export function assertExportsDashboardMetrics(scrape: string, service: string): void {
  const wanted = dashboardMetrics(service);
  assert.ok(wanted.length > 0, `the dashboard queries nothing of ${service}`);
  // a histogram's series are its name's _bucket, _count and _sum; a gauge with no rows yet has its TYPE
  const exported = (name: string) =>
    new RegExp(`^${name}[{ ]`, 'm').test(scrape) || new RegExp(`^# TYPE ${name} `, 'm').test(scrape);
  assert.deepEqual(
    wanted.filter((name) => !exported(name)),
    [],
    `metrics the dashboard queries that ${service} does not export`,
  );
}
