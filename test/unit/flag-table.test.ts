// The one flag parser of the server, the terminal apps and migrate-store (src/config/flag-table.ts).
import { z } from 'zod';
import { envName, flagName, helpLines, parseFlags, switchValue, type FlagOption } from '../../src/config/flag-table';

const table = {
  maxItems: { schema: z.string().regex(/^\d+$/, 'expected a whole number').transform(Number), default: '5', help: 'most items' },
  target: { schema: z.string().startsWith('postgres://', 'expected a URL'), secret: true, help: 'where to' },
  name: { schema: z.string().optional(), help: 'a name' },
  verbose: { schema: switchValue, default: 'false', switch: true, help: 'say more' },
} satisfies Record<string, FlagOption>;

const parse = (argv: string[], vars: NodeJS.ProcessEnv = {}) => parseFlags(table, argv, { env: { vars, prefix: 'APP_' }, fail: (message) => new Error(message) });

test('flags over variables over defaults; `given` names what was not left to its default', () => {
  const { values, given } = parse(['--target', 'postgres://h/db', '--max-items=7'], { APP_MAX_ITEMS: '9', APP_NAME: 'from-env' });
  expect(values).toEqual({ maxItems: 7, target: 'postgres://h/db', name: 'from-env', verbose: false });
  expect([...given].sort()).toEqual(['maxItems', 'name', 'target']);
  expect(parse(['--target=postgres://h/db']).values.maxItems).toBe(5);
});

test('a switch alone is on, takes a value only after =, and the next argument stays an argument', () => {
  expect(parse(['--verbose', '--target', 'postgres://h/db']).values.verbose).toBe(true);
  expect(parse(['--verbose=false', '--target', 'postgres://h/db']).values.verbose).toBe(false);
  expect(() => parse(['--verbose', 'yes', '--target', 'postgres://h/db'])).toThrow('unknown flag "yes" (see --help)');
});

test.each([
  [[], 'missing --target (see --help)'],
  [['--target'], 'flag --target needs a value'],
  [['--target', '--name', 'x'], 'flag --target needs a value'],
  [['--target', 'postgres://a', '--target', 'postgres://b'], 'flag --target given more than once'],
  [['--target', 'postgres://a', '-n', 'x'], 'unknown flag "-n" (see --help)'],
  [['--target', 'postgres://a', '--nmae=x'], 'unknown flag "--nmae" (see --help)'],
  [['--target', 'postgres://a', '--max-items', 'many'], 'invalid value "many" for --max-items: expected a whole number'],
  [['--target', 'mysql://me:secret@h/db'], 'invalid value for --target: expected a URL'],
  [['--target', 'postgres://a', 'postgres://me:secret@h/db'], 'unknown flag "postgres://me:***@h/db" (see --help)'],
])('%j is refused: %s', (argv, message) => {
  expect(() => parse(argv)).toThrow(message);
});

test('a bad variable is named as the variable', () => {
  expect(() => parse(['--target', 'postgres://a'], { APP_MAX_ITEMS: 'x' })).toThrow('invalid value "x" for APP_MAX_ITEMS');
});

test('help lines give each flag with its help, default and variable', () => {
  expect(helpLines(table, 10, 'APP_')).toEqual([
    '  --max-items  most items (default 5; env APP_MAX_ITEMS)',
    '  --target     where to (env APP_TARGET)',
    '  --name       a name (env APP_NAME)',
    '  --verbose    say more (default false; env APP_VERBOSE)',
  ]);
  expect(helpLines(table, 10)[2]).toBe('  --name       a name');
  expect([flagName('maxItems'), envName('APP_', 'maxItems')]).toEqual(['max-items', 'APP_MAX_ITEMS']);
});
