/**
 * `node dist/bench/metrics-hooks.js`: what the metrics hooks of the hot path cost per message, in
 * this process, without the noise of a whole server on a shared machine: for each message, an
 * entry committed, that entry delivered to one stream, and a share of one commit of a batch of
 * `BATCH` writes. With metrics off the same calls go to `noMetrics`. BENCHMARKS.md, "Metrics' cost".
 */
import { Registry } from 'prom-client';
import { noMetrics, type Metrics } from '../src/domain/metrics';
import { EventMetrics } from '../src/metrics/event-metrics';

const MESSAGES = 2_000_000;
const BATCH = 50;
const ROUNDS = 7;

function messages(metrics: Metrics): number {
  const started = process.cpuUsage();
  const date = new Date(Date.now() - 3);
  for (let i = 0; i < MESSAGES; i++) {
    metrics.entryCommitted(i % 2 === 0 ? 'customer' : 'agent');
    metrics.entryDelivered(date);
    if (i % BATCH === 0) metrics.batchCommitted(BATCH, 0.001);
  }
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1000) / MESSAGES; // ns per message
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

const on = new EventMetrics(new Registry());
const off: number[] = [];
const onNs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  off.push(messages(noMetrics));
  onNs.push(messages(on));
}
console.log(`metrics off: median ${median(off).toFixed(0)} ns per message; metrics on: median ${median(onNs).toFixed(0)} ns per message (${ROUNDS} rounds of ${MESSAGES} messages)`);
