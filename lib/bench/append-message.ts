/**
 * The benchmark's transaction: append one message to coordination/messages.json — the
 * smallest real shared-state change (the same one the concurrency tests make).
 */
import type { TxDecision, TxState } from '../tx/transaction.js';
import { PATHS } from '../store/kinds.js';
import { formatTimestamp } from '../util/time.js';

interface MessagesDoc { messages: unknown[] }

/** A mutation appending a broadcast info message `id` sent by `from`. */
export function appendMessage(id: string, from: string): (state: TxState, now: number) => TxDecision<string> {
  return (state, now) => {
    const doc = structuredClone(state.files.get(PATHS.messages)) as MessagesDoc;
    doc.messages.push({
      id, from, to: 'all', type: 'info', priority: 'normal', subject: `bench ${id}`, body: `bench ${id}`,
      timestamp: formatTimestamp(now), ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [],
    });
    return { kind: 'commit', writes: new Map([[PATHS.messages, doc]]), summary: id, result: id };
  };
}
