import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

interface Dashboard {
  uid: string;
  panels: { title: string; targets: { expr: string }[] }[];
}

const dashboard = JSON.parse(
  readFileSync(new URL('../grafana/gp-consult.json', import.meta.url), 'utf8'),
) as Dashboard;
const services = ['triage', 'signalling', 'record', 'web'];

describe('the Grafana dashboard', () => {
  // each service's metrics test scrapes a running service and checks it exports every metric the
  // dashboard asks of it (test-support's assertExportsDashboardMetrics): so every selector names one
  it('names the service of every metric it queries, so each service test checks its share', () => {
    assert.equal(dashboard.uid, 'gp-consult');
    for (const panel of dashboard.panels)
      for (const { expr } of panel.targets) {
        // a metric named bare (no selector) would escape the services' checks
        for (const [bare] of expr.matchAll(/\b(?:gpc|process|nodejs)_[a-z0-9_]+\b(?!\{)/g))
          assert.fail(`${panel.title}: ${bare} is queried without a service selector`);
        const selectors = [...expr.matchAll(/([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g)];
        assert.ok(selectors.length > 0, `${panel.title}: ${expr} selects no metric`);
        for (const [selector, , labels] of selectors)
          assert.ok(
            services.some((service) => labels?.includes(`service="${service}"`)),
            `${panel.title}: ${selector} names no service`,
          );
      }
  });
});
