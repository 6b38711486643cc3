import { Histogram, Registry } from 'prom-client';
import { LeanHistogram } from '../../src/metrics/lean-histogram';

test("LeanHistogram writes exactly what prom-client's Histogram writes for the same observations", async () => {
  const bounds = [0.001, 0.01, 0.1, 1, 10];
  const registry = new Registry();
  const reference = new Histogram({ name: 'h_seconds', help: 'A "help" text with a \\ backslash.', buckets: bounds, registers: [registry] });
  const lean = new LeanHistogram('h_seconds', 'A "help" text with a \\ backslash.', bounds);
  for (const value of [0, 0.0005, 0.001, 0.0011, 0.05, 0.1, 3, 10, 10.5, 1e6]) {
    reference.observe(value);
    lean.observe(value);
  }
  expect(lean.text()).toBe(await registry.metrics());
});

test('an empty LeanHistogram has every bucket at zero', () => {
  expect(new LeanHistogram('e', 'empty', [1]).text()).toBe('# HELP e empty\n# TYPE e histogram\ne_bucket{le="1"} 0\ne_bucket{le="+Inf"} 0\ne_sum 0\ne_count 0\n');
});
