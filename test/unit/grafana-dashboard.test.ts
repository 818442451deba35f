// The Grafana dashboard in the repo (controller/grafana/duck-fleet.json) against the metrics the
// controller exports: valid JSON, every query names only metrics the controller registers and only
// labels those metrics carry, and the rollout gauges are on it.
import { readFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ControllerMetrics } from '../../controller/src/metrics.js';

const test = suite('grafana dashboard');
const FILE = new URL('../../controller/grafana/duck-fleet.json', import.meta.url);

interface Target {
  expr: string;
}
interface Panel {
  id: number;
  title: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}

/** Every PromQL text of the dashboard with where it is: panel targets (rows included) and template variables. */
function queries(d: Dashboard): [string, string][] {
  const out: [string, string][] = [];
  const walk = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push([`panel ${p.id} "${p.title}"`, t.expr]);
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (q && v.name !== 'datasource') out.push([`variable ${v.name}`, q]);
  }
  return out;
}

test('valid JSON; every query names metrics the controller exports, with labels they carry', async () => {
  const dashboard = JSON.parse(await readFile(FILE, 'utf8')) as Dashboard;
  assert.is(dashboard.uid, 'duck-fleet');
  const exported = new Map(new ControllerMetrics().registry.getMetricsAsArray().map((m) => [m.name, new Set((m as unknown as { labelNames: string[] }).labelNames)]));
  const used = new Set<string>();
  const all = queries(dashboard);
  assert.ok(all.length >= 8, 'panels with queries');
  for (const [where, expr] of all) {
    const names = [...expr.matchAll(/\b(duck_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
    assert.ok(names.length > 0, `${where}: names no duck metric: ${expr}`);
    for (const name of names) {
      assert.ok(exported.has(name), `${where}: ${name} is not a metric the controller exports`);
      used.add(name);
    }
    for (const [, name, selector] of expr.matchAll(/\b(duck_[a-z0-9_]+)\{([^}]*)\}/g)) {
      for (const [, label] of selector!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
        assert.ok(exported.get(name!)!.has(label!), `${where}: ${name} has no label ${label}`);
      }
    }
  }
  for (const gauge of ['duck_rollout_nodes', 'duck_rollout_target', 'duck_agents_running', 'duck_agents']) assert.ok(used.has(gauge), `the dashboard shows ${gauge}`);
  const ids = dashboard.panels.map((p) => p.id);
  assert.is(new Set(ids).size, ids.length, 'panel ids are unique');
});

test.run();
