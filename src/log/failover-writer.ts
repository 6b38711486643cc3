/** Where log lines may go, in order of preference. */
export type LogOutput = Readonly<{ name: string; stream: NodeJS.WritableStream }>;

/**
 * A line writer that never throws and never kills the process: lines go to the first output that
 * still works. When one fails (stdout's reader, the log collector, died: EPIPE), the line that
 * failed and every later one go to the next (stderr); when all have failed, lines are dropped.
 * An output's 'error' event without a listener would be thrown as an uncaught exception, so each
 * output gets one here. `onFailover` is told once per failed output, after the switch, so that
 * what it logs lands on the next output (not told when none is left).
 */
export function failoverWriter(outputs: readonly LogOutput[], onFailover: (failed: string, error: Error) => void): (line: string) => void {
  const failed = new Set<LogOutput>();
  const fail = (output: LogOutput, error: Error) => {
    if (failed.has(output)) return;
    failed.add(output);
    if (outputs.some((other) => !failed.has(other))) onFailover(output.name, error);
  };
  for (const output of outputs) output.stream.on('error', (error: Error) => fail(output, error));

  const write = (line: string, from: number) => {
    const index = outputs.findIndex((output, i) => i >= from && !failed.has(output));
    const output = outputs[index];
    if (!output) return;
    // A write to a broken pipe fails in its callback (and an 'error' event) a tick later; a
    // destroyed stream may throw at once. Either way the line goes on to the next output.
    const tryNext = (error: Error) => {
      fail(output, error);
      write(line, index + 1);
    };
    try {
      output.stream.write(line, (error) => error && tryNext(error));
    } catch (error) {
      tryNext(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return (line) => write(line, 0);
}
