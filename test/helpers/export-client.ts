import { ExportFormat, type ExportSessionsRequest, type SupportAdminServiceClient } from '../../gen/support/admin/v1/admin';
import { demoToken, readStream } from './admin-client';

/** One line of a JSON Lines export. */
export type ExportedEntry = { session_id: string; seq: number; date: string; author_role: 'customer' | 'agent'; author_id: string; text: string };

/** Runs an export as an admin: the chunks, their concatenation, and the final status. */
export async function exportText(client: SupportAdminServiceClient, selection: ExportSessionsRequest['selection'], format = ExportFormat.EXPORT_FORMAT_JSON_LINES) {
  const { responses, status } = await readStream(client.exportSessions({ selection, format }, demoToken('admin-ops')));
  const chunks = responses.map((r) => Buffer.from(r.chunk));
  return { chunks, text: Buffer.concat(chunks).toString('utf8'), status: status };
}

/** The entries of a JSON Lines export, each line parsed. */
export function parseJsonLines(text: string): ExportedEntry[] {
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error('an export ends with a line feed');
  return text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as ExportedEntry);
}
