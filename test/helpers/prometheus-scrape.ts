import { waitFor } from './wait';

/** One metric family as parse-prometheus-text-format gives it (values are strings, as written). */
export type MetricFamily = Readonly<{
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: ReadonlyArray<Readonly<{ value?: string; labels?: Record<string, string>; count?: string; sum?: string; buckets?: Record<string, string> }>>;
}>;

// The package has no type declarations; its one export is the parser.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheusText = require('parse-prometheus-text-format') as (text: string) => MetricFamily[];

/** A scrape of `url`, parsed by a real parser of the Prometheus text format (it throws on an invalid line). */
export type Scrape = Readonly<{ text: string; families: ReadonlyMap<string, MetricFamily> }>;

export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const text = await response.text();
  return { text, families: new Map(parsePrometheusText(text).map((family) => [family.name, family])) };
}

/** The value of a counter or gauge sample whose labels include `labels` (0 when there is none), summed over matches. */
export function sampleValue(result: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = result.families.get(name);
  const matches = (family?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return matches.reduce((sum, m) => sum + Number(m.value), 0);
}

/** A histogram's observation count (its only series). */
export function histogramCount(result: Scrape, name: string): number {
  return Number(result.families.get(name)?.metrics[0]?.count ?? 0);
}

/** Scrapes until `condition` holds on a scrape; returns that scrape. */
export async function scrapeUntil(url: string, condition: (result: Scrape) => boolean, what: string, timeoutMs = 10_000): Promise<Scrape> {
  let last: Scrape | undefined;
  let scraping = false;
  await waitFor(
    () => {
      if (last && condition(last)) return true;
      if (!scraping) {
        scraping = true;
        void scrape(url).then((result) => ((last = result), (scraping = false)), () => (scraping = false));
      }
      return false;
    },
    timeoutMs,
    what,
  );
  return last!;
}
