import { z } from 'zod';
import { ChatError } from '../../domain/chat-error';
import type { ExportSelection } from '../../domain/transcript-export';
import { ExportFormat, type ExportSessionsRequest } from '../../../gen/support/admin/v1/admin';
import { parseSessionId } from './admin-requests';
import type { TranscriptFormat } from './transcript-formats';

/** A validated ExportSessions request. */
export type ExportQuery = Readonly<{ selection: ExportSelection; format: TranscriptFormat }>;

const FORMATS: Record<number, TranscriptFormat | undefined> = {
  [ExportFormat.EXPORT_FORMAT_UNSPECIFIED]: 'jsonl',
  [ExportFormat.EXPORT_FORMAT_JSON_LINES]: 'jsonl',
  [ExportFormat.EXPORT_FORMAT_PLAIN_TEXT]: 'text',
};

/** An unset Timestamp is undefined; an invalid one decodes as an invalid Date. */
const bound = (field: string) => z.date({ error: `${field} is not a valid time` }).optional();
const timeRange = (name: string) =>
  z
    .object({ start: bound(`${name}.start`), end: bound(`${name}.end`) })
    .refine(({ start, end }) => !start || !end || start < end, `${name}.start is not before ${name}.end`);

/** ExportSessions' selection and format; `invalid-argument` naming the first bad field. */
export function parseExportSessions(request: ExportSessionsRequest): ExportQuery {
  const format = FORMATS[request.format];
  if (!format) throw new ChatError('invalid-argument', 'format is not an ExportFormat');
  const { selection } = request;
  if (!selection) throw new ChatError('invalid-argument', 'selection is missing: set session_id, created or ended');
  if (selection.$case === 'sessionId') return { selection: { sessionId: parseSessionId({ sessionId: selection.value }) }, format };
  const parsed = timeRange(selection.$case).safeParse(selection.value);
  if (!parsed.success) throw new ChatError('invalid-argument', parsed.error.issues[0]?.message ?? 'invalid time range');
  const { start, end } = parsed.data;
  return { selection: { range: { by: selection.$case, ...(start && { start }), ...(end && { end }) } }, format };
}
